import NIOCore
import NIOPosix

extension NIOThreadPool {
    /// Runs blocking `body` on the pool; the caller goes on, when it is done, on the event loop it was running on.
    ///
    /// fstpyd runs Swift concurrency on its event loops (`NIOSingletons`' global executor). The plain async
    /// `runIfActive(_:)` resumes its caller from a pool thread, so the task then continues on whichever event loop
    /// the group hands out next, often not the one of the session's channels, and every channel operation after that
    /// is one more hop between threads. Completing on the caller's own loop keeps a session on one thread.
    package func runOnCallersLoop<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else {
            return try await self.runIfActive(body)
        }
        return try await self.runIfActive(eventLoop: loop, body).get()
    }
}
