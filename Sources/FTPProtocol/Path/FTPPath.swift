/// Resolution of client paths inside a session's virtual root.
///
/// Every path a client sends goes through ``resolve(_:in:)``: the result is absolute, `/`-separated, has no `.`,
/// `..` or empty components and no trailing slash, and never goes above `/` (`..` at the root stays at the root,
/// which is the jail).
public enum FTPPath {
    /// Resolves `argument` against the working directory `cwd` (itself a resolved path). Returns nil for an argument
    /// containing NUL.
    public static func resolve(_ argument: String, in cwd: String) -> String? {
        guard !argument.utf8.contains(0) else { return nil }
        var components: [Substring] = []
        if !argument.hasPrefix("/") {
            components = cwd.split(separator: "/")
        }
        for component in argument.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".":
                continue
            case "..":
                if !components.isEmpty { components.removeLast() }
            default:
                components.append(component)
            }
        }
        return "/" + components.joined(separator: "/")
    }

    /// The parent of a resolved path (`/` for `/`).
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    /// The last component of a resolved path (`/` for `/`).
    public static func name(of path: String) -> String {
        guard path != "/", let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// Joins a resolved directory and one name.
    public static func join(_ directory: String, _ name: String) -> String {
        directory == "/" ? "/" + name : directory + "/" + name
    }
}
