import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Finding the real clients these tests drive, and deciding what happens when one is missing.
///
/// A test that needs a tool is `.enabled(if: Interop.available("curl") || Interop.required)` and starts with
/// `try Interop.tool("curl")`: on a developer machine without curl it is skipped; in CI (`CI` or
/// `FSTPY_REQUIRE_INTEROP` set) it runs and fails with a clear message, because a skip is not a pass there.
enum Interop {
    /// Whether every interop test must run (CI, or `FSTPY_REQUIRE_INTEROP`).
    static let required: Bool = {
        let environment = ProcessInfo.processInfo.environment
        func isSet(_ name: String) -> Bool {
            guard let value = environment[name]?.lowercased(), !value.isEmpty else { return false }
            return value != "0" && value != "false" && value != "no"
        }
        return isSet("CI") || isSet("FSTPY_REQUIRE_INTEROP")
    }()

    /// The absolute path of an executable on `PATH`, or nil.
    static func path(of tool: String) -> String? {
        let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in searchPath.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(tool)"
            if access(candidate, X_OK) == 0 {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue
                {
                    return candidate
                }
            }
        }
        return nil
    }

    static func available(_ tool: String) -> Bool {
        path(of: tool) != nil
    }

    /// The tool's path; records a failure naming the tool and throws when it is missing.
    static func tool(_ tool: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        if let path = path(of: tool) { return path }
        let reason =
            Interop.required
            ? "CI or FSTPY_REQUIRE_INTEROP is set, so this interop test must run"
            : "this interop test cannot run"
        Issue.record(
            "'\(tool)' was not found on PATH and \(reason). Install it (scripts/test installs curl, lftp and python3).",
            sourceLocation: sourceLocation
        )
        throw InteropError.missingTool(tool)
    }

    /// Whether this machine can bind and connect on the IPv6 loopback address `::1`.
    static let ipv6LoopbackAvailable: Bool = {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        address.sin6_port = 0
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
            }
        }
        return result == 0
    }()

    /// The directory of this test target's sources (for the client scripts kept in it).
    static func targetDirectory() -> URL {
        // …/Tests/FTPInteropTests/Support/Interop.swift → …/Tests/FTPInteropTests
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    }
}

enum InteropError: Error, CustomStringConvertible {
    case missingTool(String)
    case failed(String)

    var description: String {
        switch self {
        case .missingTool(let tool): "missing tool: \(tool)"
        case .failed(let message): message
        }
    }
}

/// Test data.
enum TestData {
    /// `count` random bytes (from /dev/urandom: fast even in a debug build).
    static func random(_ count: Int) throws -> Data {
        guard count > 0 else { return Data() }
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/urandom"))
        defer { try? handle.close() }
        var data = Data(capacity: count)
        while data.count < count {
            guard let chunk = try handle.read(upToCount: min(count - data.count, 1 << 20)), !chunk.isEmpty else {
                throw InteropError.failed("/dev/urandom ran dry")
            }
            data.append(chunk)
        }
        return data
    }

    /// Why two byte strings differ ("" when they are equal): sizes and the first differing offset.
    static func difference(_ actual: Data, _ expected: Data) -> String {
        if actual == expected { return "" }
        if actual.count != expected.count {
            return "size \(actual.count), expected \(expected.count)"
        }
        let offset = zip(actual, expected).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset ?? -1
        return "same size \(actual.count) but the bytes differ from offset \(offset)"
    }

    /// Every file and directory under `root`, as relative paths mapped to the file's bytes (directories: nil).
    /// Symbolic links are not followed.
    static func tree(at root: URL) throws -> [String: Data?] {
        var result: [String: Data?] = [:]
        func walk(_ directory: URL, _ prefix: String) throws {
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
                let url = directory.appendingPathComponent(name)
                let relative = prefix.isEmpty ? name : prefix + "/" + name
                let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
                if attributes[.type] as? FileAttributeType == .typeDirectory {
                    result[relative] = .some(nil)
                    try walk(url, relative)
                } else {
                    result[relative] = .some(try Data(contentsOf: url))
                }
            }
        }
        try walk(root, "")
        return result
    }
}
