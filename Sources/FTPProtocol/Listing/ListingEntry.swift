import NIOCore

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
        var buffer = ByteBuffer()
        self.writeListLine(now: now, to: &buffer)
        return String(buffer: buffer)
    }

    /// The MLSx line for this entry (without CRLF): `fact=value;...; name`, with only the `enabled` facts.
    /// - SeeAlso: RFC 3659 §7.2
    public func machineListing(facts enabled: MachineListingFacts, typeOverride: String? = nil) -> String {
        var buffer = ByteBuffer()
        self.writeMachineListing(facts: enabled, typeOverride: typeOverride, to: &buffer)
        return String(buffer: buffer)
    }

    /// Writes ``listLine(now:)`` into `buffer`, byte by byte: a listing of thousands of entries builds no strings.
    public func writeListLine(now: Int64, to buffer: inout ByteBuffer) {
        let mode = self.mode ?? (self.kind == .directory ? 0o755 : 0o644)
        let typeLetter: UInt8 =
            switch self.kind {
            case .directory: UInt8(ascii: "d")
            case .symbolicLink: UInt8(ascii: "l")
            case .file, .other: UInt8(ascii: "-")
            }
        buffer.writeInteger(typeLetter)
        let letters: (UInt8, UInt8, UInt8) = (UInt8(ascii: "r"), UInt8(ascii: "w"), UInt8(ascii: "x"))
        for shift in stride(from: 6, through: 0, by: -3) {
            let bits = mode >> UInt32(shift) & 0o7
            buffer.writeInteger(bits & 0o4 != 0 ? letters.0 : UInt8(ascii: "-"))
            buffer.writeInteger(bits & 0o2 != 0 ? letters.1 : UInt8(ascii: "-"))
            buffer.writeInteger(bits & 0o1 != 0 ? letters.2 : UInt8(ascii: "-"))
        }
        buffer.writeStaticString(self.kind == .directory ? "   2 owner    group    " : "   1 owner    group    ")
        ListingDigits.write(self.size, width: 8, padding: UInt8(ascii: " "), to: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        let seconds = self.modificationTime ?? 0
        let civil = CivilTime(seconds: seconds)
        buffer.writeStaticString(Self.monthNames[civil.month - 1])
        buffer.writeInteger(UInt8(ascii: " "))
        ListingDigits.write(civil.day, width: 2, padding: UInt8(ascii: "0"), to: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        if abs(now - seconds) > 180 * 86_400 {
            // `Mmm dd  YYYY` for times more than 180 days away (as `ls` and pyftpdlib), `Mmm dd HH:MM` otherwise.
            buffer.writeInteger(UInt8(ascii: " "))
            ListingDigits.write(civil.year, width: 0, padding: UInt8(ascii: "0"), to: &buffer)
        } else {
            ListingDigits.write(civil.hour, width: 2, padding: UInt8(ascii: "0"), to: &buffer)
            buffer.writeInteger(UInt8(ascii: ":"))
            ListingDigits.write(civil.minute, width: 2, padding: UInt8(ascii: "0"), to: &buffer)
        }
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(self.name)
    }

    /// Writes ``machineListing(facts:typeOverride:)`` into `buffer`.
    public func writeMachineListing(
        facts enabled: MachineListingFacts,
        typeOverride: String? = nil,
        to buffer: inout ByteBuffer
    ) {
        if enabled.contains(.type) {
            buffer.writeStaticString("type=")
            if let typeOverride {
                buffer.writeString(typeOverride)
            } else {
                switch self.kind {
                case .directory: buffer.writeStaticString("dir")
                case .file: buffer.writeStaticString("file")
                case .symbolicLink: buffer.writeStaticString("OS.unix=symlink")
                case .other: buffer.writeStaticString("OS.unix=special")
                }
            }
            buffer.writeInteger(UInt8(ascii: ";"))
        }
        if enabled.contains(.size), self.kind != .directory {
            buffer.writeStaticString("size=")
            ListingDigits.write(self.size, width: 0, padding: UInt8(ascii: "0"), to: &buffer)
            buffer.writeInteger(UInt8(ascii: ";"))
        }
        if enabled.contains(.modify), let time = self.modificationTime {
            buffer.writeStaticString("modify=")
            FTPTimestamp.write(seconds: time, to: &buffer)
            buffer.writeInteger(UInt8(ascii: ";"))
        }
        if enabled.contains(.perm), let perm = self.permissionFacts {
            buffer.writeStaticString("perm=")
            buffer.writeString(perm)
            buffer.writeInteger(UInt8(ascii: ";"))
        }
        if enabled.contains(.unique), let unique = self.uniqueID {
            buffer.writeStaticString("unique=")
            buffer.writeString(unique)
            buffer.writeInteger(UInt8(ascii: ";"))
        }
        if enabled.contains(.unixMode), let mode = self.mode {
            // Octal with a leading 0, as pyftpdlib: `unix.mode=0644`.
            buffer.writeStaticString("unix.mode=0")
            ListingDigits.write(Int64(mode & 0o7777), width: 0, padding: UInt8(ascii: "0"), radix: 8, to: &buffer)
            buffer.writeInteger(UInt8(ascii: ";"))
        }
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(self.name)
    }

    private static let monthNames: [StaticString] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
}

/// Numbers written as ASCII digits straight into a buffer, left-padded to a width.
enum ListingDigits {
    static func write<Value: BinaryInteger>(
        _ value: Value,
        width: Int,
        padding: UInt8,
        radix: Int = 10,
        to buffer: inout ByteBuffer
    ) {
        var magnitude = UInt64(value.magnitude)
        // 64 bits need at most 22 octal digits.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { digits in
            var count = 0
            repeat {
                digits[23 - count] = UInt8(ascii: "0") + UInt8(magnitude % UInt64(radix))
                magnitude /= UInt64(radix)
                count += 1
            } while magnitude > 0
            let sign = value < 0 ? 1 : 0
            for _ in 0..<max(0, width - count - sign) {
                buffer.writeInteger(padding)
            }
            if sign == 1 { buffer.writeInteger(UInt8(ascii: "-")) }
            buffer.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: digits[(24 - count)...])))
        }
    }
}
