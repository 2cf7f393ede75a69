import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Small blocking IPv4 loopback sockets: free ports, a held port, and a minimal FTP client (so these tests need no
/// external tool). Every socket has a receive and send timeout.
enum Loopback {
    struct SocketError: Error, CustomStringConvertible {
        var description: String
    }

    /// Ports already handed out by ``freePort()`` in this process.
    private static let handedOut = Mutex<Set<Int>>([])

    /// A port that was free a moment ago, never handed out before in this process.
    ///
    /// Drawn at random from 10000-19999: below the system's ephemeral range (32768-60999 on Linux), where the kernel
    /// picks the local ports of outgoing connections and of port-0 listeners (the servers' passive fallback, the S3
    /// server's clients). A port from that range can be taken by any connection between this check and the daemon's
    /// bind; one from this range only by another test that drew the same number, which the set rules out.
    static func freePort() throws -> Int {
        for _ in 0..<1000 {
            let port = Int.random(in: 10000..<20000)
            let fresh = Self.handedOut.withLock { $0.insert(port).inserted }
            guard fresh else { continue }
            if let held = try? HeldPort(port: port) {
                held.close()
                return port
            }
        }
        throw SocketError(description: "no free loopback port in 10000-19999")
    }

    /// Makes an IPv4 TCP socket with timeouts.
    static func makeSocket(timeout: Int = 15) throws -> Int32 {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw SocketError(description: "socket() failed: errno \(errno)") }
        var value = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    static func address(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// Connects to 127.0.0.1:port, or throws.
    static func connect(port: Int, timeout: Int = 15) throws -> Int32 {
        let fd = try makeSocket(timeout: timeout)
        var address = address(port: port)
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                systemConnect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            systemClose(fd)
            throw SocketError(description: "connect to 127.0.0.1:\(port) failed: errno \(code)")
        }
        return fd
    }

    /// Whether something accepts connections on 127.0.0.1:port.
    static func isListening(port: Int) -> Bool {
        guard let fd = try? connect(port: port, timeout: 2) else { return false }
        systemClose(fd)
        return true
    }
}

/// A listening socket on 127.0.0.1 held for the length of a test (a port in use).
final class HeldPort: @unchecked Sendable {
    let fd: Int32
    let port: Int

    /// Listens on `port`, or on a port the system picks when it is 0.
    init(port: Int = 0) throws {
        let fd = try Loopback.makeSocket()
        var address = Loopback.address(port: port)
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 4) == 0 else {
            systemClose(fd)
            throw Loopback.SocketError(description: "bind/listen failed: errno \(errno)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: actual.sin_port))
    }

    func close() {
        systemClose(self.fd)
    }
}

/// A minimal FTP client over a blocking socket: enough to read the greeting, log in, store, list and quit.
final class MiniFTP {
    private let fd: Int32
    private var buffer: [UInt8] = []
    /// The greeting (220 line).
    private(set) var greeting = ""

    init(port: Int) throws {
        self.fd = try Loopback.connect(port: port)
        self.greeting = try self.readReply()
    }

    deinit {
        systemClose(self.fd)
    }

    /// Sends one command line; returns the complete reply (all lines of a multi-line reply).
    @discardableResult
    func command(_ line: String) throws -> String {
        try self.send(Array((line + "\r\n").utf8))
        return try self.readReply()
    }

    /// Logs in; returns the reply to PASS.
    @discardableResult
    func login(_ user: String, _ password: String) throws -> String {
        let reply = try self.command("USER \(user)")
        guard reply.hasPrefix("331") else { throw Loopback.SocketError(description: "USER: \(reply)") }
        return try self.command("PASS \(password)")
    }

    /// STOR over EPSV with this payload; returns the final reply (or the refusal).
    func upload(_ name: String, _ payload: Data) throws -> String {
        let dataFD = try self.openPassive()
        defer { systemClose(dataFD) }
        let preliminary = try self.command("STOR \(name)")
        guard preliminary.hasPrefix("150") || preliminary.hasPrefix("125") else { return preliminary }
        try payload.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = systemSend(dataFD, raw.baseAddress! + offset, raw.count - offset)
                guard sent > 0 else { throw Loopback.SocketError(description: "data send failed: errno \(errno)") }
                offset += sent
            }
        }
        shutdown(dataFD, Int32(SHUT_WR))
        var scratch = [UInt8](repeating: 0, count: 64)
        _ = recv(dataFD, &scratch, scratch.count, 0)
        return try self.readReply()
    }

    /// EPSV, then a connection to the announced port.
    private func openPassive() throws -> Int32 {
        let reply = try self.command("EPSV")
        guard reply.hasPrefix("229"), let open = reply.firstIndex(of: "("), let close = reply.firstIndex(of: ")") else {
            throw Loopback.SocketError(description: "EPSV: \(reply)")
        }
        let inside = reply[reply.index(after: open)..<close].trimmingCharacters(in: CharacterSet(charactersIn: "|"))
        guard let port = Int(inside) else { throw Loopback.SocketError(description: "EPSV port: \(reply)") }
        return try Loopback.connect(port: port)
    }

    /// NLST over EPSV; returns the names.
    func names(_ path: String = "") throws -> [String] {
        let dataFD = try self.openPassive()
        defer { systemClose(dataFD) }
        let preliminary = try self.command(path.isEmpty ? "NLST" : "NLST \(path)")
        guard preliminary.hasPrefix("150") || preliminary.hasPrefix("125") else {
            throw Loopback.SocketError(description: "NLST: \(preliminary)")
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(dataFD, &chunk, chunk.count, 0)
            if count <= 0 { break }
            received += chunk[0..<count]
        }
        let final = try self.readReply()
        guard final.hasPrefix("226") else { throw Loopback.SocketError(description: "NLST final: \(final)") }
        return String(decoding: received, as: UTF8.self).split(separator: "\r\n").map(String.init)
    }

    /// The next reply, or "" when the server closed the connection.
    func readReply() throws -> String {
        guard let first = try self.readLine() else { return "" }
        var reply = first
        let characters = Array(first)
        if characters.count >= 4, characters[3] == "-" {
            let code = String(characters[0..<3])
            while let line = try self.readLine() {
                reply += "\n" + line
                if line.hasPrefix(code + " ") { break }
            }
        }
        return reply
    }

    private func readLine() throws -> String? {
        while true {
            if let newline = self.buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(self.buffer[..<newline])
                self.buffer.removeFirst(newline + 1)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = recv(self.fd, &chunk, chunk.count, 0)
            if count == 0 { return self.buffer.isEmpty ? nil : String(decoding: self.buffer, as: UTF8.self) }
            guard count > 0 else { throw Loopback.SocketError(description: "control recv failed: errno \(errno)") }
            self.buffer += chunk[0..<count]
        }
    }

    private func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBufferPointer { systemSend(self.fd, $0.baseAddress!, $0.count) }
            guard sent > 0 else { throw Loopback.SocketError(description: "control send failed: errno \(errno)") }
            offset += sent
        }
    }
}

// File-scope wrappers: inside types with their own `close`/`send` methods the bare names would not reach libc.
private func systemClose(_ fd: Int32) {
    _ = close(fd)
}

private func systemConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    connect(fd, address, length)
}

private func systemSend(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    send(fd, bytes, count, 0)
}
