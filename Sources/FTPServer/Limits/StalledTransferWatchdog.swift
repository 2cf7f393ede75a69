import NIOCore
import Synchronization

/// Closes a data connection on which nothing has moved for `timeout`, so that a client that stops reading a download
/// or stops sending an upload cannot hold a transfer (and its file) open for ever. The transfer then ends with 426.
///
/// Progress is what the transfer loops count (``TransferControl/addBytes(_:)``), bandwidth-pacing waits
/// (``TransferControl/noteProgress()``), and the bytes still buffered in the channel: a large `FileRegion` (sendfile)
/// is one write whose completion comes only at its end, but the buffered count falls as the kernel takes its bytes.
/// The check runs on the channel's event loop a few times per timeout; it is a timer, not a poll of the socket.
package final class StalledTransferWatchdog: Sendable {
    private struct Marks: Equatable {
        var bytes: Int64
        var pacingTicks: UInt64
        var buffered: Int
    }

    private struct State {
        var marks: Marks?
        var since: NIODeadline
        var task: RepeatedTask?
    }

    private let fired = Atomic<Bool>(false)
    private let state: Mutex<State>

    private init() {
        self.state = Mutex(State(marks: nil, since: .now()))
    }

    /// Starts watching `channel` for the transfer `transfer` reports on.
    package static func start(
        channel: any Channel,
        timeout: Duration,
        transfer: TransferControl
    ) -> StalledTransferWatchdog {
        let watchdog = StalledTransferWatchdog()
        let limit = TimeAmount(timeout)
        let interval = max(TimeAmount.milliseconds(10), min(TimeAmount.seconds(1), .nanoseconds(limit.nanoseconds / 4)))
        let task = channel.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { task in
            // On the channel's event loop: its options may be read synchronously.
            let buffered = (try? channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
            let progress = transfer.progressMark
            let marks = Marks(bytes: progress.bytes, pacingTicks: progress.pacingTicks, buffered: buffered)
            let now = NIODeadline.now()
            let stalled: Bool = watchdog.state.withLock { state in
                if state.marks != marks {
                    state.marks = marks
                    state.since = now
                    return false
                }
                return now - state.since >= limit
            }
            if stalled {
                watchdog.fired.store(true, ordering: .relaxed)
                task.cancel()
                channel.close(promise: nil)
            }
        }
        watchdog.state.withLock { $0.task = task }
        return watchdog
    }

    /// Stops watching; returns whether the watchdog closed the connection.
    package func stop() -> Bool {
        self.state.withLock { $0.task }?.cancel()
        return self.fired.load(ordering: .relaxed)
    }
}
