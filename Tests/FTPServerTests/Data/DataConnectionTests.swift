import NIOCore
import NIOPosix
import Testing

@testable import FTPServer

/// Data channel set-up on real sockets: the receive buffer that bounds what an upload can leave in the kernel.
@Suite("Data connection set-up")
struct DataConnectionTests {
    /// Accepts one connection on 127.0.0.1, sets it up as a data connection with `setup`, and returns its
    /// `SO_RCVBUF` as the kernel reports it.
    func receiveBuffer(with setup: DataChannelSetup) async throws -> Int {
        let group = MultiThreadedEventLoopGroup.singleton
        let reported = group.next().makePromise(of: Int.self)
        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    _ = try DataConnection.configure(child, setup: setup)
                    let value = try child.syncOptions?.getOption(.socketOption(.so_rcvbuf)) ?? -1
                    reported.succeed(Int(value))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let port = try #require(server.localAddress?.port)
        let client = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()
        defer {
            client.close(promise: nil)
            server.close(promise: nil)
        }
        return try await reported.futureResult.get()
    }

    @Test("a receive buffer the system allows reaches the socket; without one the kernel's default stays")
    func receiveBufferIsSet() async throws {
        let limit = try #require(DataChannelSetup.systemReceiveBufferLimit, "net.core.rmem_max is readable (Linux)")
        // A size the system allows: at most rmem_max, above the kernel's default for a new socket.
        let size = min(limit, 1 << 20)
        let setup = DataChannelSetup(chunkSize: 64 * 1024, receiveBuffer: size)
        #expect(setup.receiveBuffer == size)
        // Linux reports twice the size set (its bookkeeping share).
        let set = try await self.receiveBuffer(with: setup)
        #expect(set >= size, "SO_RCVBUF after setting \(size): \(set)")
        let kernel = try await self.receiveBuffer(with: DataChannelSetup(chunkSize: 64 * 1024))
        #expect(kernel != set, "SO_RCVBUF left to the kernel: \(kernel)")
    }

    @Test("a receive buffer larger than net.core.rmem_max is left to the kernel, not cut down")
    func receiveBufferOverTheSystemLimit() throws {
        let limit = try #require(DataChannelSetup.systemReceiveBufferLimit, "net.core.rmem_max is readable (Linux)")
        #expect(DataChannelSetup.applicableReceiveBuffer(limit) == limit)
        #expect(DataChannelSetup.applicableReceiveBuffer(limit + 1) == nil)
        #expect(DataChannelSetup(chunkSize: 64 * 1024, receiveBuffer: limit + 1).receiveBuffer == nil)
    }

    @Test("the receive buffer is 4 MiB by default")
    func defaultReceiveBuffer() {
        #expect(FTPService.Configuration.Limits().dataReceiveBuffer == 4 << 20)
    }
}
