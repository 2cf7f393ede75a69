import NIOCore
import Synchronization

/// One token bucket shared by the transfers it covers (all downloads of the server, or one user's uploads...).
package final class BandwidthLimiter: Sendable {
    private let bucket: Mutex<TokenBucket>

    package init(rate: Int) {
        self.bucket = Mutex(TokenBucket(rate: rate, now: .now))
    }

    /// The bytes per second this limiter allows.
    package var rate: Int { self.bucket.withLock { $0.rate } }

    /// Takes `bytes`; returns how long to wait before using them.
    package func reserve(_ bytes: Int) -> Duration {
        // The time is read under the lock, so that the bucket only ever sees it move forward.
        self.bucket.withLock { $0.take(bytes, now: .now) }
    }
}

/// What one direction of one session's transfers are held to: the server-wide limiter and the user's, either
/// optional. The transfer loops call ``pace(_:for:)`` once per piece they move.
package struct BandwidthThrottle: Sendable {
    package var limiters: [BandwidthLimiter]

    package init(_ limiters: [BandwidthLimiter]) {
        self.limiters = limiters
    }

    package static let unlimited = BandwidthThrottle([])

    package var isUnlimited: Bool { self.limiters.isEmpty }

    /// The size of one piece of a paced transfer (a `FileRegion` of a sendfile download): a tenth of a second at
    /// the tightest limit; `Int.max` when unlimited (one piece).
    package var sliceSize: Int {
        guard let rate = self.limiters.map(\.rate).min() else { return .max }
        return TokenBucket.quantum(forRate: rate)
    }

    /// Accounts for `bytes` moved (or about to be) and waits as long as the limits ask: the longest of the waits,
    /// since the bytes are taken from every limiter at once.
    ///
    /// The wait is a sleep in steps of at most 100 ms: between steps it ends early when the transfer is aborted
    /// (ABOR, a lost client, the shutdown deadline), and it tells the stalled-transfer watchdog that the transfer
    /// is waiting on us, not on the client. Cancellation ends it with `CancellationError`.
    package func pace(_ bytes: Int, for transfer: TransferControl) async throws {
        guard !self.limiters.isEmpty, bytes > 0 else { return }
        var wait = Duration.zero
        for limiter in self.limiters {
            wait = max(wait, limiter.reserve(bytes))
        }
        guard wait > .zero else { return }
        let clock = ContinuousClock()
        let deadline = clock.now + wait
        while !transfer.isAborted {
            transfer.noteProgress()
            let now = clock.now
            guard now < deadline else { break }
            try await Task.sleep(until: min(deadline, now + .milliseconds(100)), clock: clock)
        }
    }
}

extension BandwidthThrottle {
    /// Sends `buffer` through `send` in pieces of ``sliceSize``, each paced before it goes, so that a large buffer
    /// under a small limit is spread out rather than sent in one burst after one long wait. Unlimited: one piece,
    /// no wait. (Slices share the buffer's storage: nothing is copied.)
    package func send(
        _ buffer: ByteBuffer,
        for transfer: TransferControl,
        through send: (ByteBuffer) async throws -> Void
    ) async throws {
        let slice = self.sliceSize
        guard buffer.readableBytes > slice else {
            try await self.pace(buffer.readableBytes, for: transfer)
            try await send(buffer)
            return
        }
        var rest = buffer
        while let piece = rest.readSlice(length: min(slice, rest.readableBytes)), piece.readableBytes > 0 {
            try await self.pace(piece.readableBytes, for: transfer)
            try await send(piece)
        }
    }
}

/// The throttles of one session: downloads and uploads.
package struct SessionBandwidth: Sendable {
    package var download: BandwidthThrottle
    package var upload: BandwidthThrottle

    package static let unlimited = SessionBandwidth(download: .unlimited, upload: .unlimited)
}

/// The server's bandwidth limiters: one per direction for the whole server, and one per direction for each user
/// with a transfer-capable session, shared by all of that user's sessions.
///
/// A user's limiters live as long as a session of that user holds them: the table keeps weak references, and
/// forgets the dead ones as it grows (a fresh bucket behaves exactly like one that has been idle), so its size is
/// bounded by the sessions open.
package final class BandwidthLimits: Sendable {
    private struct UserLimiters {
        weak var download: BandwidthLimiter?
        weak var upload: BandwidthLimiter?
    }

    private struct Users {
        var table: [String: UserLimiters] = [:]
        /// The table's size after its last sweep; the next sweep comes when it has doubled.
        var sweptSize = 16
    }

    package let rates: FTPService.Configuration.Bandwidth
    private let download: BandwidthLimiter?
    private let upload: BandwidthLimiter?
    private let users = Mutex(Users())

    package init(_ rates: FTPService.Configuration.Bandwidth) {
        self.rates = rates
        self.download = rates.maximumDownloadRate.map(BandwidthLimiter.init(rate:))
        self.upload = rates.maximumUploadRate.map(BandwidthLimiter.init(rate:))
    }

    /// The throttles for a session of `user` (nil: the server-wide limits only).
    package func throttles(forUser user: String?) -> SessionBandwidth {
        var userDownload: BandwidthLimiter?
        var userUpload: BandwidthLimiter?
        if let user, self.rates.userMaximumDownloadRate != nil || self.rates.userMaximumUploadRate != nil {
            (userDownload, userUpload) = self.users.withLock { users in
                var entry = users.table[user] ?? UserLimiters()
                let download = entry.download ?? self.rates.userMaximumDownloadRate.map(BandwidthLimiter.init(rate:))
                let upload = entry.upload ?? self.rates.userMaximumUploadRate.map(BandwidthLimiter.init(rate:))
                entry.download = download
                entry.upload = upload
                users.table[user] = entry
                if users.table.count >= users.sweptSize * 2 {
                    users.table = users.table.filter { $0.value.download != nil || $0.value.upload != nil }
                    users.sweptSize = max(16, users.table.count)
                }
                return (download, upload)
            }
        }
        return SessionBandwidth(
            download: BandwidthThrottle([self.download, userDownload].compactMap { $0 }),
            upload: BandwidthThrottle([self.upload, userUpload].compactMap { $0 })
        )
    }
}
