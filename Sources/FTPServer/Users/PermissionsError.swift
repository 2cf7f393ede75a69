/// A permission string contains a letter that is not one of `elradfmwMT`.
public struct PermissionsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The unknown letter.
    public var letter: Character

    /// An error about `letter`.
    public init(letter: Character) {
        self.letter = letter
    }

    /// `unknown permission letter 'x' (allowed: elradfmwMT)`.
    public var description: String {
        let shown = DisplayText.escaped(String(self.letter))
        return "unknown permission letter '\(shown)' (allowed: \(Permissions.allowedLetters))"
    }
}
