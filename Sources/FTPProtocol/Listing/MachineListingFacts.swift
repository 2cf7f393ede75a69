/// The MLSx facts this server offers, and which of them a session has enabled with `OPTS MLST`.
/// - SeeAlso: RFC 3659 §7.8, §7.9
public struct MachineListingFacts: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let type = MachineListingFacts(rawValue: 1 << 0)
    public static let size = MachineListingFacts(rawValue: 1 << 1)
    public static let modify = MachineListingFacts(rawValue: 1 << 2)
    public static let perm = MachineListingFacts(rawValue: 1 << 3)
    public static let unique = MachineListingFacts(rawValue: 1 << 4)
    public static let unixMode = MachineListingFacts(rawValue: 1 << 5)

    public static let all: MachineListingFacts = [.type, .size, .modify, .perm, .unique, .unixMode]

    /// Fact names in the order FEAT lists them.
    static let names: [(MachineListingFacts, String)] = [
        (.type, "type"), (.size, "size"), (.modify, "modify"), (.perm, "perm"), (.unique, "unique"),
        (.unixMode, "unix.mode"),
    ]

    /// Parses the argument of `OPTS MLST type;size;` (unknown facts are ignored, as RFC 3659 §7.9 asks).
    public init(optsArgument: String?) {
        var facts: MachineListingFacts = []
        for name in (optsArgument ?? "").split(separator: ";") {
            let lowered = name.lowercased()
            if let fact = Self.names.first(where: { $0.1 == lowered }) { facts.insert(fact.0) }
        }
        self = facts
    }

    /// `type;size;` for the OPTS reply.
    public var optsDescription: String {
        Self.names.filter { self.contains($0.0) }.map { $0.1 + ";" }.joined()
    }

    /// The FEAT line: `MLST type*;size*;...` with a star on the enabled facts.
    public func featureLine(offered: MachineListingFacts = .all) -> String {
        "MLST "
            + Self.names.filter { offered.contains($0.0) }.map { $0.1 + (self.contains($0.0) ? "*;" : ";") }.joined()
    }
}
