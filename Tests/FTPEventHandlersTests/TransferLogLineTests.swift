import FTPProtocol
import FTPServer
import Foundation
import Testing

@testable import FTPEventHandlers

/// xferlog(5) lines, field by field.
@Suite("xferlog line")
struct TransferLogLineTests {
    static let utc = TimeZone(identifier: "UTC")!
    /// Fri Nov 20 09:12:32 2026 UTC
    static let date = Date(timeIntervalSince1970: 1_795_165_952)

    static func event(
        _ kind: FTPEvent.Kind,
        path: String = "/in/a.csv",
        backendPath: String = "/home/alice/in/a.csv",
        user: String? = "alice",
        duration: Duration = .milliseconds(2400),
        type: TransferType = .binary,
        date: Date = TransferLogLineTests.date
    ) -> FTPEvent {
        let upload = kind == .fileReceived || kind == .incompleteFileReceived
        let complete = kind == .fileReceived || kind == .fileSent
        return FTPEvent(
            kind: kind,
            date: date,
            session: 3,
            client: .init(address: "192.0.2.7", port: 50622),
            user: user,
            transfer: .init(
                direction: upload ? .upload : .download,
                outcome: complete ? .completed : .aborted,
                path: path,
                backendPath: backendPath,
                bytes: 1_048_576,
                duration: duration,
                type: type
            )
        )
    }

    @Test("an upload: every field in place")
    func upload() throws {
        let line = try #require(TransferLogLine.line(for: Self.event(.fileReceived), timeZone: Self.utc))
        #expect(line == "Fri Nov 20 09:12:32 2026 2 192.0.2.7 1048576 /home/alice/in/a.csv b _ i r alice ftp 0 * c\n")
        // What xferlog readers do: split on white space; 5 time fields and 13 more.
        let fields = line.split(whereSeparator: \.isWhitespace)
        #expect(fields.count == 18)
        #expect(fields[8] == "/home/alice/in/a.csv" && fields[11] == "i" && fields[17] == "c")
    }

    @Test("a download cut short, TYPE A: o, a, i")
    func incompleteASCIIDownload() throws {
        let line = try #require(
            TransferLogLine.line(for: Self.event(.incompleteFileSent, type: .ascii), timeZone: Self.utc)
        )
        let fields = line.split(separator: " ")
        #expect(fields[9] == "a" && fields[10] == "_" && fields[11] == "o" && fields[17] == "i\n")
    }

    @Test("a day below 10 is padded with a space, as ctime(3) writes it")
    func paddedDay() throws {
        let december = Date(timeIntervalSince1970: 1_796_112_000)  // Tue Dec  1 08:00:00 2026 UTC
        let line = try #require(TransferLogLine.line(for: Self.event(.fileSent, date: december), timeZone: Self.utc))
        #expect(line.hasPrefix("Tue Dec  1 08:00:00 2026 "))
        #expect(line.split(whereSeparator: \.isWhitespace).count == 18)
    }

    @Test("local time is used: the same instant in Tokyo")
    func timeZone() throws {
        let tokyo = try #require(TimeZone(identifier: "Asia/Tokyo"))
        let line = try #require(TransferLogLine.line(for: Self.event(.fileSent), timeZone: tokyo))
        #expect(line.hasPrefix("Fri Nov 20 18:12:32 2026 "))
    }

    @Test("spaces and control characters in names become _ (as ProFTPD writes them)")
    func spaces() throws {
        let line = try #require(
            TransferLogLine.line(
                for: Self.event(.fileReceived, backendPath: "/in/my report\tv2.txt", user: "j doe"),
                timeZone: Self.utc
            )
        )
        let fields = line.split(whereSeparator: \.isWhitespace)
        #expect(fields.count == 18)
        #expect(fields[8] == "/in/my_report_v2.txt")
        #expect(fields[13] == "j_doe")
        #expect(TransferLogLine.field("ünï/ok") == "ünï/ok", "non-ASCII letters are kept")
    }

    @Test(
        "transfer time: whole seconds, rounded, at least 1",
        arguments: [
            (Duration.zero, Int64(1)), (.milliseconds(499), 1), (.milliseconds(1499), 1), (.milliseconds(1500), 2),
            (.seconds(3600), 3600),
        ]
    )
    func seconds(duration: Duration, expected: Int64) {
        #expect(TransferLogLine.wholeSeconds(duration) == expected)
    }

    @Test("no line for events that are not transfers")
    func notTransfers() {
        let login = FTPEvent(kind: .login, session: 1, client: .init(address: "::1", port: 1), user: "alice")
        #expect(TransferLogLine.line(for: login) == nil)
    }
}
