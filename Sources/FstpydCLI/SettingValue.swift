import Foundation

/// The text forms of setting values shared by flags, `FSTPY_*` variables and the configuration file: durations,
/// rates and booleans, parsed and printed.
enum SettingValue {
    /// `300`, `300s`, `1.5s`, `500ms`, `5m`, `1h` (a plain number is seconds). Nil when not a duration >= 0.
    static func duration(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(suffix: String, nanoseconds: Double)] = [
            ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
        ]
        var number = Substring(trimmed)
        var scale = 1e9
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            number = trimmed.dropLast(unit.suffix.count)
            scale = unit.nanoseconds
            break
        }
        guard let value = Self.decimal(number), value >= 0, value * scale < 1e18 else { return nil }
        return .nanoseconds(Int64((value * scale).rounded()))
    }

    /// Bytes a second: `1048576`, `512K`, `10M`, `1.5G` (binary multiples; `KiB`, `MB/s`... also read), `0`,
    /// `unlimited`, `off` or `none` for no limit (nil). Throws nothing: returns `.invalid` for anything else.
    static func rate(_ text: String) -> Rate {
        var trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if ["unlimited", "off", "none"].contains(trimmed) { return .unlimited }
        for suffix in ["/s", "b", "i"] where trimmed.hasSuffix(suffix) {
            trimmed.removeLast(suffix.count)
        }
        var multiplier = 1.0
        if let last = trimmed.last, let power = ["k": 1, "m": 2, "g": 3][String(last)] {
            multiplier = pow1024(power)
            trimmed.removeLast()
        }
        guard let value = Self.decimal(Substring(trimmed)), value >= 0, value * multiplier < 1e15 else {
            return .invalid
        }
        let bytes = Int((value * multiplier).rounded())
        return bytes == 0 ? .unlimited : .limit(bytes)
    }

    enum Rate: Equatable {
        case limit(Int)
        case unlimited
        case invalid
    }

    /// `true`, `yes`, `on`, `1` and `false`, `no`, `off`, `0`.
    static func bool(_ text: String) -> Bool? {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "yes", "on", "1": true
        case "false", "no", "off", "0": false
        default: nil
        }
    }

    /// A duration in the largest unit that keeps it whole: `5m`, `30s`, `500ms`.
    static func text(_ duration: Duration) -> String {
        let milliseconds = Int64((duration.secondsAsDouble * 1000).rounded())
        if milliseconds != 0, milliseconds % 3_600_000 == 0 { return "\(milliseconds / 3_600_000)h" }
        if milliseconds != 0, milliseconds % 60_000 == 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(milliseconds)ms"
    }

    /// A rate in the largest binary unit that keeps it whole: `10M`, `512K`; `unlimited` for nil.
    static func text(rate: Int?) -> String {
        guard let rate else { return "unlimited" }
        for (suffix, power) in [("G", 3), ("M", 2), ("K", 1)] {
            let unit = Int(pow1024(power))
            if rate % unit == 0 { return "\(rate / unit)\(suffix)" }
        }
        return "\(rate)"
    }

    private static func pow1024(_ power: Int) -> Double {
        (0..<power).reduce(1.0) { value, _ in value * 1024 }
    }

    /// A plain decimal number (digits, at most one point); no sign, no exponent.
    private static func decimal(_ text: Substring) -> Double? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            text.filter({ $0 == "." }).count <= 1, text != "."
        else { return nil }
        return Double(text)
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    fileprivate var secondsAsDouble: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
