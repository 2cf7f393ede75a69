import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Receives one GetObject answer on the HTTP client's event loop (AsyncHTTPClient's delegate API) and hands it to one
/// reading task: the head once, then the body in chunks through an ``S3BodyBuffer``.
///
/// Backpressure is a future: while the buffer is full, ``didReceiveBodyPart(task:_:)`` returns a future that the
/// reader completes once it has taken half of it, and until then the HTTP client reads nothing more from the socket.
/// Between pauses, parts are gathered on the event loop without waking the reader for each.
///
/// Continuations and promises are completed outside the lock: completing a promise on its own event loop runs its
/// callbacks at once, and those may call back into the collector.
final class S3BodyCollector: HTTPClientResponseDelegate, Sendable {
    typealias Response = Void

    private struct State {
        var buffer: S3BodyBuffer
        var head: HTTPResponseHead?
        /// Why no head will come (the request failed first).
        var headFailure: (any Error)?
        var headWaiter: CheckedContinuation<HTTPResponseHead, any Error>?
        var bodyWaiter: CheckedContinuation<ByteBuffer?, any Error>?
        /// The future ``didReceiveBodyPart(task:_:)`` returned while the buffer is full.
        var pause: EventLoopPromise<Void>?
        var task: HTTPClient.Task<Void>?
        var headTimeout: Scheduled<Void>?
        /// The reader is gone: the request was cancelled, nothing more is held.
        var isCancelled = false
        var hasTimedOut = false
    }

    private let state: Mutex<State>

    init(chunkSize: Int, limit: Int) {
        self.state = Mutex(State(buffer: S3BodyBuffer(chunkSize: chunkSize, limit: limit)))
    }

    /// Starts `request` with this collector as its delegate, on `eventLoop` (the delegate's and, if the pool can, the
    /// connection's). The head must arrive within `headTimeout`; the body may then take as long as it takes.
    func start(
        _ request: HTTPClient.Request,
        on httpClient: HTTPClient,
        eventLoop: any EventLoop,
        headTimeout: TimeAmount,
        logger: Logger
    ) {
        let task = httpClient.execute(
            request: request,
            delegate: self,
            eventLoop: .delegateAndChannel(on: eventLoop),
            logger: logger
        )
        let timer = task.eventLoop.scheduleTask(in: headTimeout) { [self] in
            let expired = self.state.withLock { state -> Bool in
                guard state.head == nil, state.headFailure == nil else { return false }
                state.hasTimedOut = true
                return true
            }
            if expired { task.cancel() }
        }
        let cancelNow = self.state.withLock { state -> Bool in
            state.task = task
            state.headTimeout = timer
            return state.isCancelled
        }
        if cancelNow { task.cancel() }
    }

    // MARK: The reading side

    /// Waits for the answer's head.
    func head() async throws -> HTTPResponseHead {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let outcome = self.state.withLock { state -> Result<HTTPResponseHead, any Error>? in
                    if let head = state.head { return .success(head) }
                    if let failure = state.headFailure { return .failure(failure) }
                    if state.isCancelled { return .failure(CancellationError()) }
                    state.headWaiter = continuation
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            self.cancel()
        }
    }

    /// The next chunk of the body, or nil at its end.
    func next() async throws -> ByteBuffer? {
        // Most calls find a chunk ready: no continuation then.
        let (ready, resume) = self.state.withLock { state -> (Outcome?, EventLoopPromise<Void>?) in
            let ready = Self.takeReady(&state)
            return (ready, Self.resumable(&state))
        }
        resume?.succeed()
        if let ready { return try ready.get() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ByteBuffer?, any Error>) in
                let (outcome, resume) = self.state.withLock { state -> (Outcome?, EventLoopPromise<Void>?) in
                    let outcome = Self.takeReady(&state)
                    if outcome == nil { state.bodyWaiter = continuation }
                    return (outcome, Self.resumable(&state))
                }
                resume?.succeed()
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            self.cancel()
        }
    }

    private typealias Outcome = Result<ByteBuffer?, any Error>

    /// The paused producer's promise, once the reader has taken enough for it to go on.
    private static func resumable(_ state: inout State) -> EventLoopPromise<Void>? {
        state.buffer.mayResume ? state.pause.take() : nil
    }

    /// What the buffer has for the reader now, or nil. Once cancelled, only `CancellationError` (the HTTP client's
    /// own error for the cancelled request may have come in since).
    private static func takeReady(_ state: inout State) -> Outcome? {
        if state.isCancelled { return .failure(CancellationError()) }
        switch state.buffer.take() {
        case .chunk(let chunk): return .success(chunk)
        case .end: return .success(nil)
        case .failed(let error): return .failure(error)
        case .empty: return nil
        }
    }

    /// Ends the request (the connection is closed if the body was not complete) and drops what is held. A waiting
    /// reader gets `CancellationError`.
    func cancel() {
        let (task, pause, headWaiter, bodyWaiter, timer) = self.state.withLock { state in
            state.isCancelled = true
            state.buffer.discard()
            return (
                state.task, state.pause.take(), state.headWaiter.take(), state.bodyWaiter.take(),
                state.headTimeout.take()
            )
        }
        timer?.cancel()
        headWaiter?.resume(throwing: CancellationError())
        bodyWaiter?.resume(throwing: CancellationError())
        task?.cancel()
        // The HTTP client ignores the future once the request failed; it must not be left unfulfilled.
        pause?.succeed()
    }

    // MARK: HTTPClientResponseDelegate (on the event loop)

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        let (waiter, timer) = self.state.withLock { state in
            state.head = head
            return (state.headWaiter.take(), state.headTimeout.take())
        }
        timer?.cancel()
        waiter?.resume(returning: head)
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        let (delivery, pause) = self.state.withLock { state -> (Delivery?, EventLoopFuture<Void>?) in
            guard !state.isCancelled else { return (nil, nil) }
            _ = state.buffer.append(buffer)
            let delivery = Self.deliver(&state)
            guard state.buffer.isFull else { return (delivery, nil) }
            let promise = task.eventLoop.makePromise(of: Void.self)
            state.pause = promise
            return (delivery, promise.futureResult)
        }
        delivery?.run()
        return pause ?? task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {
        let (headWaiter, headFailure, delivery, pause, timer) = self.state.withLock { state in
            let error: any Error = state.hasTimedOut ? HTTPClientError.deadlineExceeded : error
            if state.head == nil, state.headFailure == nil { state.headFailure = error }
            state.buffer.fail(error)
            return (
                state.headWaiter.take(), state.headFailure ?? error, Self.deliver(&state), state.pause.take(),
                state.headTimeout.take()
            )
        }
        timer?.cancel()
        headWaiter?.resume(throwing: headFailure)
        delivery?.run()
        pause?.succeed()
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        let delivery = self.state.withLock { state in
            state.buffer.finish()
            return Self.deliver(&state)
        }
        delivery?.run()
    }

    /// A waiting reader and what it gets, to be resumed outside the lock.
    private struct Delivery {
        var waiter: CheckedContinuation<ByteBuffer?, any Error>
        var outcome: Result<ByteBuffer?, any Error>

        func run() { self.waiter.resume(with: self.outcome) }
    }

    /// Takes what a waiting reader can have now, if a reader waits.
    private static func deliver(_ state: inout State) -> Delivery? {
        guard state.bodyWaiter != nil, let outcome = Self.takeReady(&state) else { return nil }
        return Delivery(waiter: state.bodyWaiter.take()!, outcome: outcome)
    }
}
