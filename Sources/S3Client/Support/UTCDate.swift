import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The date formats S3 speaks, read and written by hand: a listing page carries a thousand timestamps, and
/// `DateFormatter`/`ISO8601DateFormatter` are slow and not `Sendable`.
package struct UTCDate: Sendable, Hashable {
    package var year: Int
    package var month: Int
    package var day: Int
    package var hour: Int
    package var minute: Int
    package var second: Int
    package var nanosecond: Int = 0

    package init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, nanosecond: Int = 0) {
        (self.year, self.month, self.day) = (year, month, day)
        (self.hour, self.minute, self.second, self.nanosecond) = (hour, minute, second, nanosecond)
    }

    package init(_ date: Date) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        self.init(
            year: Int(parts.tm_year) + 1900,
            month: Int(parts.tm_mon) + 1,
            day: Int(parts.tm_mday),
            hour: Int(parts.tm_hour),
            minute: Int(parts.tm_min),
            second: Int(parts.tm_sec)
        )
    }

    package var date: Date? {
        guard (1...12).contains(self.month), (1...31).contains(self.day), (0...23).contains(self.hour),
            (0...59).contains(self.minute), (0...60).contains(self.second)
        else { return nil }
        var parts = tm()
        parts.tm_year = Int32(self.year - 1900)
        parts.tm_mon = Int32(self.month - 1)
        parts.tm_mday = Int32(self.day)
        parts.tm_hour = Int32(self.hour)
        parts.tm_min = Int32(self.minute)
        parts.tm_sec = Int32(self.second)
        let seconds = timegm(&parts)
        return Date(timeIntervalSince1970: TimeInterval(seconds) + TimeInterval(self.nanosecond) / 1e9)
    }

    /// `20150830T123600Z` (Signature Version 4).
    package var compactDateTime: String {
        Self.pad(self.year, 4) + Self.pad(self.month, 2) + Self.pad(self.day, 2) + "T" + Self.pad(self.hour, 2)
            + Self.pad(self.minute, 2) + Self.pad(self.second, 2) + "Z"
    }

    /// Parses ISO 8601 as S3 writes it in XML: `2026-11-25T09:06:15.000Z` (fraction optional).
    package static func parseISO8601(_ text: some StringProtocol) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            bytes.last == UInt8(ascii: "Z"),
            let year = Self.number(bytes, 0, 4), let month = Self.number(bytes, 5, 2),
            let day = Self.number(bytes, 8, 2),
            let hour = Self.number(bytes, 11, 2), let minute = Self.number(bytes, 14, 2),
            let second = Self.number(bytes, 17, 2)
        else { return nil }
        var nanosecond = 0
        if bytes.count > 20 {
            guard bytes[19] == UInt8(ascii: "."), bytes.count <= 30 else { return nil }
            let digits = bytes[20..<(bytes.count - 1)]
            guard !digits.isEmpty, let fraction = Self.number(Array(digits), 0, digits.count) else { return nil }
            nanosecond = fraction * Self.powerOfTen(9 - digits.count)
        } else if bytes.count != 20 {
            return nil
        }
        return UTCDate(
            year: year,
            month: month,
            day: day,
            hour: hour,
            minute: minute,
            second: second,
            nanosecond: nanosecond
        ).date
    }

    /// Parses the HTTP date of `Last-Modified` (RFC 7231 IMF-fixdate): `Wed, 25 Nov 2026 09:06:15 GMT`.
    package static func parseHTTPDate(_ text: some StringProtocol) -> Date? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]),
            let month = Self.months.firstIndex(of: String(parts[2])), let year = Int(parts[3])
        else { return nil }
        let time = parts[4].split(separator: ":")
        guard time.count == 3, let hour = Int(time[0]), let minute = Int(time[1]), let second = Int(time[2]) else {
            return nil
        }
        return UTCDate(year: year, month: month + 1, day: day, hour: hour, minute: minute, second: second).date
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static func number(_ bytes: [UInt8], _ start: Int, _ count: Int) -> Int? {
        var value = 0
        for byte in bytes[start..<(start + count)] {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private static func powerOfTen(_ exponent: Int) -> Int {
        (0..<max(0, exponent)).reduce(1) { value, _ in value * 10 }
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
