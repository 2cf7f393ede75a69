import FTPProtocol
import NIOCore
import Testing

@Suite("Listing formats")
struct ListingTests {
    // 2026-11-25 05:57:00 UTC
    let now: Int64 = 1_795_586_220

    @Test func listLineRecentFile() {
        let entry = ListingEntry(name: "report.txt", kind: .file, size: 1234, modificationTime: now - 3600, mode: 0o644)
        #expect(entry.listLine(now: now) == "-rw-r--r--   1 owner    group        1234 Nov 25 04:57 report.txt")
    }

    @Test func listLineOldDirectoryShowsYear() {
        let entry = ListingEntry(
            name: "old dir",
            kind: .directory,
            size: 4096,
            modificationTime: 946_684_800,
            mode: 0o755
        )
        #expect(entry.listLine(now: now) == "drwxr-xr-x   2 owner    group        4096 Jan 01  2000 old dir")
    }

    /// RFC 3659 §7.7: `type=file;size=...;modify=...; name` (a space, then the name).
    @Test func machineListing() {
        let entry = ListingEntry(
            name: "file name.bin",
            kind: .file,
            size: 10,
            modificationTime: 0,
            mode: 0o600,
            uniqueID: "803g12",
            permissionFacts: "adfrw"
        )
        #expect(
            entry.machineListing(facts: .all)
                == "type=file;size=10;modify=19700101000000;perm=adfrw;unique=803g12;unix.mode=0600; file name.bin"
        )
        #expect(entry.machineListing(facts: [.type, .size]) == "type=file;size=10; file name.bin")
        let directory = ListingEntry(name: "d", kind: .directory, size: 4096, permissionFacts: "el")
        #expect(directory.machineListing(facts: .all) == "type=dir;perm=el; d")
    }

    @Test func factsOptions() {
        let facts = MachineListingFacts(optsArgument: "Type;size;bogus;UNIX.mode;")
        #expect(facts == [.type, .size, .unixMode])
        #expect(facts.optsDescription == "type;size;unix.mode;")
        #expect(facts.featureLine() == "MLST type*;size*;modify;perm;unique;unix.mode*;")
        #expect(MachineListingFacts(optsArgument: nil) == [])
    }

    @Test(arguments: [
        (Int64(0), "19700101000000"),
        (951_782_400, "20000229000000"),
        (1_609_459_199, "20201231235959"),
        (4_102_444_800, "21000101000000"),
    ])
    func timestamps(seconds: Int64, text: String) {
        #expect(FTPTimestamp.format(seconds: seconds) == text)
        #expect(FTPTimestamp.parse(text) == seconds)
    }

    @Test(arguments: [
        "2020", "20200230000000", "20201231240000", "2020123123595x", "20201231235959.", "20201231235959.1a",
    ])
    func badTimestamps(text: String) {
        #expect(FTPTimestamp.parse(text) == nil)
    }

    @Test func fractionalTimestamp() {
        #expect(FTPTimestamp.parse("20201231235959.123") == 1_609_459_199)
    }
}

@Suite("ASCII conversion")
struct ASCIIConverterTests {
    @Test func toNetworkAcrossChunks() {
        var converter = ASCIIConverter.ToNetwork()
        let parts = ["a\nb", "\r", "\nc\n", "\n"].map { converter.convert(ByteBuffer(string: $0)) }
        #expect(parts.map { String(buffer: $0) }.joined() == "a\r\nb\r\nc\r\n\r\n")
    }

    @Test func fromNetworkAcrossChunks() {
        var converter = ASCIIConverter.FromNetwork()
        var out = ["a\r\nb\r", "\nc\rd\r"].map { String(buffer: converter.convert(ByteBuffer(string: $0))) }.joined()
        if let tail = converter.finish() { out += String(buffer: tail) }
        #expect(out == "a\nb\nc\rd\r")
    }

    @Test func roundTrip() {
        let text = "line one\nline two\n\nend"
        var toNetwork = ASCIIConverter.ToNetwork()
        var fromNetwork = ASCIIConverter.FromNetwork()
        let wire = toNetwork.convert(ByteBuffer(string: text))
        #expect(String(buffer: wire) == "line one\r\nline two\r\n\r\nend")
        #expect(String(buffer: fromNetwork.convert(wire)) == text)
    }
}
