extension HostPort {
    /// Parses `h1,h2,h3,h4,p1,p2` (PORT). - SeeAlso: RFC 959 §4.1.2
    public static func parsePortArgument(_ text: String) -> HostPort? {
        let fields = text.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count == 6 else { return nil }
        var numbers: [Int] = []
        for field in fields {
            let trimmed = field.trimmingASCIISpaces()
            guard !trimmed.isEmpty, trimmed.count <= 3, trimmed.allSatisfy(\.isASCIIDigit), let value = Int(trimmed),
                value <= 255
            else { return nil }
            numbers.append(value)
        }
        let host = numbers[0..<4].map(String.init).joined(separator: ".")
        return HostPort(host: host, port: numbers[4] << 8 | numbers[5])
    }

    /// Parses `|proto|address|port|` (EPRT); the delimiter is the first character. - SeeAlso: RFC 2428 §2
    public static func parseExtendedPortArgument(_ text: String) -> HostPort? {
        guard let delimiter = text.first, delimiter.isASCII, delimiter != " ", !delimiter.isASCIIDigit else {
            return nil
        }
        let fields = text.split(separator: delimiter, omittingEmptySubsequences: false)
        // "|2|::1|2121|" splits into ["", "2", "::1", "2121", ""].
        guard fields.count == 5, fields[0].isEmpty, fields[4].isEmpty else { return nil }
        guard let port = Int(fields[3]), (1...65535).contains(port) else { return nil }
        let address = String(fields[2])
        switch fields[1] {
        case "1":
            guard IPAddressText.isIPv4(address) else { return nil }
        case "2":
            guard IPAddressText.isIPv6(address) else { return nil }
        default:
            return nil
        }
        return HostPort(host: address, port: port)
    }

    /// `h1,h2,h3,h4,p1,p2` for a PASV reply; nil when the host is not IPv4. - SeeAlso: RFC 959 §4.1.2
    public var passiveReplyArgument: String? {
        guard IPAddressText.isIPv4(self.host), (0...65535).contains(self.port) else { return nil }
        return self.host.replacingDots() + ",\(self.port >> 8),\(self.port & 0xFF)"
    }
}

/// Checks of textual IP addresses, with no system call.
public enum IPAddressText {
    /// Dotted-quad IPv4.
    public static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCIIDigit)
                    && Int(part).map { $0 <= 255 } == true
            }
    }

    /// IPv6 in its textual forms (with `::`, with an embedded IPv4 tail, with a `%zone`).
    public static func isIPv6(_ text: String) -> Bool {
        var address = Substring(text)
        if let percent = address.firstIndex(of: "%") {
            guard address.index(after: percent) < address.endIndex else { return false }
            address = address[..<percent]
        }
        guard address.contains(":"), address.count <= 45 else { return false }
        let doubleColons = address.components(separatedBy: "::").count - 1
        guard doubleColons <= 1 else { return false }
        var groups = address.split(separator: ":", omittingEmptySubsequences: true)
        var groupCount = 0
        if let last = groups.last, last.contains(".") {
            guard isIPv4(String(last)) else { return false }
            groups.removeLast()
            groupCount += 2
        }
        for group in groups {
            guard (1...4).contains(group.count), group.allSatisfy(\.isHexDigit) else { return false }
            groupCount += 1
        }
        return doubleColons == 1 ? groupCount <= 7 : groupCount == 8
    }
}

extension Substring {
    fileprivate func components(separatedBy separator: String) -> [Substring] {
        var result: [Substring] = []
        var rest = self[...]
        while let range = rest.firstRange(of: separator) {
            result.append(rest[..<range.lowerBound])
            rest = rest[range.upperBound...]
        }
        result.append(rest)
        return result
    }

    fileprivate func trimmingASCIISpaces() -> Substring {
        let start = self.firstIndex { $0 != " " } ?? self.endIndex
        let end = self.lastIndex { $0 != " " }.map { self.index(after: $0) } ?? start
        return start < end ? self[start..<end] : Substring()
    }
}

extension String {
    fileprivate func replacingDots() -> String {
        String(self.map { $0 == "." ? "," : $0 })
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { self.isASCII && self.isNumber }
}
