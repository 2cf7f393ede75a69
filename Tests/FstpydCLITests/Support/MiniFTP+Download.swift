import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A download in progress over a blocking data socket, read in steps, so a test can act (send a signal) halfway.
final class DownloadStream {
    private let fd: Int32
    private(set) var received = Data()

    fileprivate init(fd: Int32) {
        self.fd = fd
    }

    deinit {
        _ = close(self.fd)
    }

    /// Reads until at least `count` bytes have arrived in all, or the end of the data.
    func read(atLeast count: Int) throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while self.received.count < count {
            let got = recv(self.fd, &chunk, chunk.count, 0)
            if got == 0 { return }
            guard got > 0 else { throw Loopback.SocketError(description: "data recv failed: errno \(errno)") }
            self.received.append(contentsOf: chunk[0..<got])
        }
    }

    /// Reads to the end of the data (the server's close); returns false on a reset.
    @discardableResult
    func readToEnd() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = recv(self.fd, &chunk, chunk.count, 0)
            if got == 0 { return true }
            if got < 0, errno == ECONNRESET { return false }
            guard got > 0 else { throw Loopback.SocketError(description: "data recv failed: errno \(errno)") }
            self.received.append(contentsOf: chunk[0..<got])
        }
    }
}

extension MiniFTP {
    /// EPSV, then RETR `name` in binary; returns the data stream after the 150 reply.
    func startDownload(_ name: String) throws -> DownloadStream {
        try expectReplyCode(try self.command("TYPE I"), "200")
        let reply = try self.command("EPSV")
        guard reply.hasPrefix("229"), let open = reply.firstIndex(of: "("), let close = reply.firstIndex(of: ")") else {
            throw Loopback.SocketError(description: "EPSV: \(reply)")
        }
        let inside = reply[reply.index(after: open)..<close].trimmingCharacters(in: CharacterSet(charactersIn: "|"))
        guard let port = Int(inside) else { throw Loopback.SocketError(description: "EPSV port: \(reply)") }
        let stream = DownloadStream(fd: try Loopback.connect(port: port, timeout: 30))
        let preliminary = try self.command("RETR \(name)")
        guard preliminary.hasPrefix("150") || preliminary.hasPrefix("125") else {
            throw Loopback.SocketError(description: "RETR \(name): \(preliminary)")
        }
        return stream
    }
}

/// Throws unless `reply` starts with `code`.
private func expectReplyCode(_ reply: String, _ code: String) throws {
    guard reply.hasPrefix(code) else { throw Loopback.SocketError(description: "expected \(code), got \(reply)") }
}
