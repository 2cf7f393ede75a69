/// Helpers for the normalized paths every backend receives (absolute, `/`-separated, no `.` or `..`, no trailing
/// slash, the root is `/`).
enum VirtualPath {
    /// The path's components (`[]` for the root). Throws `.invalidArgument` for a path that is not normalized:
    /// the server normalizes every path, so this is a second line of defence, not the resolver.
    static func components(_ path: String) throws -> [Substring] {
        guard path.first == "/" else {
            throw FileSystemError(.invalidArgument, path: path, message: "not an absolute path")
        }
        guard !path.utf8.contains(0) else {
            throw FileSystemError(.invalidArgument, path: path, message: "NUL in path")
        }
        if path == "/" { return [] }
        let parts = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        for part in parts where part.isEmpty || part == "." || part == ".." {
            throw FileSystemError(.invalidArgument, path: path, message: "not a normalized path")
        }
        return parts
    }

    /// The last component (`/` for the root).
    static func name(_ path: String) -> String {
        guard path != "/", let slash = path.lastIndex(of: "/") else { return "/" }
        return String(path[path.index(after: slash)...])
    }

    /// The parent directory (`/` for the root and its children).
    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    /// Whether `path` is `ancestor` itself or inside it.
    static func isSelfOrDescendant(_ path: String, of ancestor: String) -> Bool {
        if ancestor == "/" { return true }
        return path == ancestor || path.hasPrefix(ancestor + "/")
    }

    /// Refuses names a client must not create: CR and LF would let a name inject lines into replies and listings,
    /// NUL cannot be stored anywhere.
    static func validateNewName(_ path: String) throws {
        let name = Self.name(path)
        if name.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) {
            throw FileSystemError(.invalidArgument, path: path, message: "name contains CR, LF or NUL")
        }
    }
}
