/// Makes text from a configuration file safe to quote in one line of an error message or a log.
enum DisplayText {
    /// `text` with control, format and whitespace characters other than the space written as `\u{…}`, so that an
    /// error message stays on one line and shows what is really there.
    static func escaped(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar != " " && (Self.isControl(scalar) || scalar.properties.isWhitespace) {
                result += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// C0 and C1 control characters, and format characters (a byte order mark, bidirectional overrides) that
    /// would make a name look like another one.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: true
        default: false
        }
    }
}
