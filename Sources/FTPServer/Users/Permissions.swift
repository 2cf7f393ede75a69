/// What a user may do: pyftpdlib's permission letters `elradfmwMT`.
///
/// Each FTP command needs at most one of these (see `FTPCommand.requiredPermission`); commands that need none
/// (PWD, TYPE, NOOP...) are always allowed once logged in.
public struct Permissions: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// `e`: change directory (CWD, CDUP).
    public static let changeDirectory = Permissions(rawValue: 1 << 0)
    /// `l`: list and inspect (LIST, NLST, STAT with a path, MLSD, MLST, SIZE, MDTM).
    public static let list = Permissions(rawValue: 1 << 1)
    /// `r`: download a file (RETR).
    public static let retrieve = Permissions(rawValue: 1 << 2)
    /// `a`: append to a file (APPE).
    public static let append = Permissions(rawValue: 1 << 3)
    /// `d`: delete a file or a directory (DELE, RMD).
    public static let delete = Permissions(rawValue: 1 << 4)
    /// `f`: rename a file or a directory (RNFR, RNTO).
    public static let rename = Permissions(rawValue: 1 << 5)
    /// `m`: create a directory (MKD).
    public static let makeDirectory = Permissions(rawValue: 1 << 6)
    /// `w`: upload a file (STOR, STOU).
    public static let store = Permissions(rawValue: 1 << 7)
    /// `M`: change permission bits (SITE CHMOD).
    public static let changeMode = Permissions(rawValue: 1 << 8)
    /// `T`: set a modification time (MFMT).
    public static let setModificationTime = Permissions(rawValue: 1 << 9)

    /// Every permission: `elradfmwMT`.
    public static let all: Permissions = [
        .changeDirectory, .list, .retrieve, .append, .delete, .rename, .makeDirectory, .store, .changeMode,
        .setModificationTime,
    ]
    /// Browse and download only: `elr`.
    public static let readOnly: Permissions = [.changeDirectory, .list, .retrieve]

    /// Every letter with its permission, in canonical order.
    private static let table: [(letter: Character, permission: Permissions)] = [
        ("e", .changeDirectory), ("l", .list), ("r", .retrieve), ("a", .append), ("d", .delete), ("f", .rename),
        ("m", .makeDirectory), ("w", .store), ("M", .changeMode), ("T", .setModificationTime),
    ]

    /// Every known letter in canonical order: `elradfmwMT`.
    public static let allowedLetters = String(Self.table.map(\.letter))

    /// Reads permission letters such as `"elr"`. Order and repeats do not matter; `""` is no permission at all.
    ///
    /// Letters are case-sensitive, as in pyftpdlib (`m` is MKD, `M` is SITE CHMOD).
    public init(letters: String) throws(PermissionsError) {
        self = []
        for letter in letters {
            guard let entry = Self.table.first(where: { $0.letter == letter }) else {
                throw PermissionsError(letter: letter)
            }
            self.insert(entry.permission)
        }
    }

    /// The letters of these permissions, in canonical order (`elradfmwMT`).
    public var letters: String {
        String(Self.table.filter { self.contains($0.permission) }.map(\.letter))
    }

    /// The letters, in canonical order.
    public var description: String { self.letters }
}
