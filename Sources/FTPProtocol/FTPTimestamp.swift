import NIOCore

/// `YYYYMMDDHHMMSS[.sss]` times (UTC) of MDTM, MFMT and MLSx `modify`, with calendar arithmetic done here so the
/// protocol target needs no Foundation. - SeeAlso: RFC 3659 §2.3
public enum FTPTimestamp {
    /// Formats seconds since the epoch as `YYYYMMDDHHMMSS`.
    public static func format(seconds: Int64) -> String {
        var buffer = ByteBuffer()
        self.write(seconds: seconds, to: &buffer)
        return String(buffer: buffer)
    }

    /// Writes `YYYYMMDDHHMMSS` into `buffer`.
    public static func write(seconds: Int64, to buffer: inout ByteBuffer) {
        let civil = CivilTime(seconds: seconds)
        let zero = UInt8(ascii: "0")
        ListingDigits.write(civil.year, width: 4, padding: zero, to: &buffer)
        ListingDigits.write(civil.month, width: 2, padding: zero, to: &buffer)
        ListingDigits.write(civil.day, width: 2, padding: zero, to: &buffer)
        ListingDigits.write(civil.hour, width: 2, padding: zero, to: &buffer)
        ListingDigits.write(civil.minute, width: 2, padding: zero, to: &buffer)
        ListingDigits.write(civil.second, width: 2, padding: zero, to: &buffer)
    }

    /// Parses `YYYYMMDDHHMMSS` with optional `.fraction` (ignored) into seconds since the epoch.
    public static func parse(_ text: String) -> Int64? {
        let whole = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let digits = whole.first, digits.count == 14, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            return nil
        }
        if whole.count == 2, whole[1].isEmpty || !whole[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) { return nil }
        let utf8 = Array(digits.utf8)
        func number(_ start: Int, _ length: Int) -> Int {
            utf8[start..<start + length].reduce(0) { $0 * 10 + Int($1 - 48) }
        }
        let year = number(0, 4)
        let month = number(4, 2)
        let day = number(6, 2)
        let hour = number(8, 2)
        let minute = number(10, 2)
        let second = number(12, 2)
        guard (1...12).contains(month), (1...CivilTime.daysIn(month: month, year: year)).contains(day),
            hour < 24, minute < 60, second < 61
        else { return nil }
        let days = CivilTime.daysFromCivil(year: year, month: month, day: day)
        return Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }
}

/// A UTC calendar date and time from seconds since the epoch (Howard Hinnant's days-from-civil algorithms).
struct CivilTime {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var second: Int

    init(seconds: Int64) {
        let days = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let secondsOfDay = Int(seconds - Int64(days) * 86_400)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        self.day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        self.month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        self.year = yearOfEra + era * 400 + (self.month <= 2 ? 1 : 0)
        self.hour = secondsOfDay / 3600
        self.minute = secondsOfDay % 3600 / 60
        self.second = secondsOfDay % 60
    }

    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
