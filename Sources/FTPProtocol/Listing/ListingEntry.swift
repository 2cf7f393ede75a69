/// What a listing says about one entry: the protocol's view, filled in by the server from the file system.
public struct ListingEntry: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case file
        case directory
        case symbolicLink
        case other
    }

    public var name: String
    public var kind: Kind
    public var size: Int64
    /// Seconds since the epoch, UTC.
    public var modificationTime: Int64?
    /// Unix permission bits.
    public var mode: UInt32?
    /// MLSx `unique`.
    public var uniqueID: String?
    /// MLSx `perm` letters for the logged-in user (RFC 3659 §7.5.5), computed by the server.
    public var permissionFacts: String?

    public init(
        name: String,
        kind: Kind,
        size: Int64,
        modificationTime: Int64? = nil,
        mode: UInt32? = nil,
        uniqueID: String? = nil,
        permissionFacts: String? = nil
    ) {
        self.name = name
        self.kind = kind
        self.size = size
        self.modificationTime = modificationTime
        self.mode = mode
        self.uniqueID = uniqueID
        self.permissionFacts = permissionFacts
    }
}

extension ListingEntry {
    /// One `ls -l` line as LIST sends it (without CRLF), in the form clients parse:
    /// `-rw-r--r--   1 owner    group         123 Nov 25 05:57 name`, or with the year instead of the time for
    /// entries more than six months from `now`.
    public func listLine(now: Int64) -> String {
        let mode = self.mode ?? (self.kind == .directory ? 0o755 : 0o644)
        let typeLetter: Character =
            switch self.kind {
            case .directory: "d"
            case .symbolicLink: "l"
            case .file: "-"
            case .other: "-"
            }
        var permissions = String(typeLetter)
        let letters: [Character] = ["r", "w", "x"]
        for shift in stride(from: 6, through: 0, by: -3) {
            for bit in 0..<3 {
                permissions.append(mode >> UInt32(shift + 2 - bit) & 1 == 1 ? letters[bit] : "-")
            }
        }
        let links = self.kind == .directory ? "2" : "1"
        let size = String(self.size)
        return permissions + " " + FTPTimestamp.leftPad(links, 3) + " " + "owner    group    "
            + FTPTimestamp.leftPad(size, 8) + " " + Self.listDate(self.modificationTime ?? 0, now: now) + " "
            + self.name
    }

    /// `Mmm dd HH:MM` for recent times, `Mmm dd  YYYY` for times more than 180 days away (as `ls` and pyftpdlib).
    static func listDate(_ seconds: Int64, now: Int64) -> String {
        let civil = CivilTime(seconds: seconds)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let day = FTPTimestamp.pad(civil.day, 2)
        let head = months[civil.month - 1] + " " + day + " "
        if abs(now - seconds) > 180 * 86_400 {
            return head + " " + String(civil.year)
        }
        return head + FTPTimestamp.pad(civil.hour, 2) + ":" + FTPTimestamp.pad(civil.minute, 2)
    }

    /// The MLSx line for this entry (without CRLF): `fact=value;...; name`, with only the `enabled` facts.
    /// - SeeAlso: RFC 3659 §7.2
    public func machineListing(facts enabled: MachineListingFacts, typeOverride: String? = nil) -> String {
        var line = ""
        if enabled.contains(.type) {
            let type =
                typeOverride
                ?? {
                    switch self.kind {
                    case .directory: "dir"
                    case .file: "file"
                    case .symbolicLink: "OS.unix=symlink"
                    case .other: "OS.unix=special"
                    }
                }()
            line += "type=\(type);"
        }
        if enabled.contains(.size), self.kind != .directory {
            line += "size=\(self.size);"
        }
        if enabled.contains(.modify), let time = self.modificationTime {
            line += "modify=\(FTPTimestamp.format(seconds: time));"
        }
        if enabled.contains(.perm), let perm = self.permissionFacts {
            line += "perm=\(perm);"
        }
        if enabled.contains(.unique), let unique = self.uniqueID {
            line += "unique=\(unique);"
        }
        if enabled.contains(.unixMode), let mode = self.mode {
            line += "unix.mode=0\(String(mode & 0o7777, radix: 8));"
        }
        return line + " " + self.name
    }
}

extension FTPTimestamp {
    static func leftPad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }
}
