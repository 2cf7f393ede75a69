import FTPEventHandlers
import FTPProtocol
import FTPServer
import Foundation
import Prometheus
import Testing

/// Events, metrics and the transfer log, from real ftplib sessions against the real server.
@Suite("Events, metrics and xferlog (ftplib)", .serialized)
struct EventsTests {
    static let enabled = Interop.available("python3") || Interop.required
    static let passwords = [Fixture.alicePassword, Fixture.bobPassword, Fixture.carolPassword, "wrong-password"]

    @Test(
        "ftplib: each hook fires once, in order, with user, address, paths, bytes and duration",
        .enabled(if: enabled)
    )
    func events() async throws {
        let recorder = EventRecorder()
        try await EventsHarness.withServer(configure: { $0.monitoring.eventHandlers = [recorder] }) { fixture, port in
            _ = try await EventsHarness.client(["session"], fixture: fixture, port: port)
        }
        let events = recorder.events
        let sessions = Dictionary(grouping: events, by: \.session)
        #expect(sessions.count == 2, "two sessions: \(events.map(\.kind))")
        let alice = try #require(sessions.values.first { $0.contains { $0.user == "alice" } })
        let carol = try #require(sessions.values.first { $0.contains { $0.user == "carol" } })
        #expect(
            alice.map(\.kind) == [
                .connect, .loginFailed, .loginFailed, .login, .fileReceived, .fileSent, .fileReceived,
                .incompleteFileReceived, .incompleteFileSent, .logout, .disconnect,
            ]
        )
        #expect(carol.map(\.kind) == [.connect, .login, .fileReceived, .logout, .disconnect])
        #expect(alice[1].user == "nobody" && alice[2].user == "alice", "login_failed names the user as typed")
        #expect(alice[0].user == nil, "nobody is logged in at connect")
        for event in events {
            #expect(event.client.address == "127.0.0.1")
            #expect(event.client.port != nil)
        }

        let upload = try #require(alice[4].transfer)
        #expect(upload.direction == .upload && upload.outcome == .completed && upload.type == .binary)
        #expect(upload.path == "/pub/up.bin" && upload.backendPath == "/pub/up.bin")
        #expect(upload.bytes == 100 * 1024)
        #expect(upload.duration > .zero && upload.duration < .seconds(60))
        let download = try #require(alice[5].transfer)
        #expect(download.direction == .download && download.outcome == .completed && download.bytes == 100 * 1024)
        let text = try #require(alice[6].transfer)
        #expect(text.path == "/pub/my file.txt" && text.type == .ascii && text.bytes == 6, "TYPE A: \"text\\r\\n\"")
        let aborted = try #require(alice[7].transfer)
        #expect(aborted.outcome == .aborted && aborted.path == "/pub/aborted.bin" && aborted.bytes <= 2 << 20)
        let cut = try #require(alice[8].transfer)
        // A plain download from the local backend goes out with sendfile in one piece, whose progress is only known
        // when it completes: an aborted one reports what completed before (here nothing), never the whole file.
        #expect(cut.outcome == .aborted && cut.direction == .download && cut.bytes < 32 << 20)
        #expect(alice[9].user == "alice" && alice[10].user == "alice")

        let carolUpload = try #require(carol[2].transfer)
        #expect(carolUpload.path == "/x.txt", "the path as carol sees it")
        #expect(carolUpload.backendPath == "/carol/x.txt", "the path in the served storage")
        #expect(carolUpload.bytes == 3)

        // Never a password.
        for event in events {
            let text = "\(event)"
            for password in Self.passwords {
                #expect(!text.contains(password), "an event contains a password: \(text)")
            }
        }
    }

    @Test("ftplib: an upload that stalls is an incomplete file received, outcome stalled", .enabled(if: enabled))
    func stalled() async throws {
        let recorder = EventRecorder()
        let registry = PrometheusCollectorRegistry()
        try await EventsHarness.withServer(configure: {
            $0.timeouts.stalledTransfer = .seconds(1)
            $0.monitoring.eventHandlers = [recorder]
            $0.monitoring.metricsFactory = PrometheusMetricsFactory(registry: registry)
        }) { fixture, port in
            _ = try await EventsHarness.client(["stall"], fixture: fixture, port: port)
        }
        let transfers = recorder.events.filter(\.kind.isTransfer)
        #expect(transfers.map(\.kind) == [.incompleteFileReceived])
        let transfer = try #require(transfers.first?.transfer)
        #expect(transfer.outcome == .stalled && transfer.path == "/pub/stalled.bin" && transfer.bytes == 1024)
        #expect(transfer.duration >= .seconds(1))
        let metrics = parseMetrics(registry.emitToString())
        #expect(metrics[#"fstpy_transfers_total{direction="in",result="stalled"}"#] == 1)
    }

    @Test(
        "ftplib: metrics count sessions, logins, bytes, transfers by result, durations and storage errors",
        .enabled(if: enabled)
    )
    func metrics() async throws {
        let registry = PrometheusCollectorRegistry()
        try await EventsHarness.withServer(configure: {
            $0.monitoring.metricsFactory = PrometheusMetricsFactory(registry: registry)
        }) { fixture, port in
            _ = try await EventsHarness.client(["session"], fixture: fixture, port: port)
        }
        let page = registry.emitToString()
        let metrics = parseMetrics(page)
        #expect(metrics["fstpy_sessions_total"] == 2, "\(page)")
        #expect(metrics["fstpy_sessions"] == 0)
        #expect(metrics[#"fstpy_logins_total{result="ok"}"#] == 2)
        #expect(metrics[#"fstpy_logins_total{result="failed"}"#] == 2)
        #expect(metrics[#"fstpy_transfers_total{direction="in",result="completed"}"#] == 3)
        #expect(metrics[#"fstpy_transfers_total{direction="out",result="completed"}"#] == 1)
        #expect(metrics[#"fstpy_transfers_total{direction="in",result="aborted"}"#] == 1)
        #expect(metrics[#"fstpy_transfers_total{direction="out",result="aborted"}"#] == 1)
        #expect(metrics[#"fstpy_transfer_duration_seconds_count{direction="in",result="completed"}"#] == 3)
        #expect(metrics[#"fstpy_transfer_duration_seconds_count{direction="out",result="aborted"}"#] == 1)
        let bytesIn = try #require(metrics[#"fstpy_transfer_bytes_total{direction="in"}"#])
        let bytesOut = try #require(metrics[#"fstpy_transfer_bytes_total{direction="out"}"#])
        // Completed uploads: 100 KiB + 6 + 3 bytes; the aborted one adds at most 2 MiB. Downloads: 100 KiB plus
        // what the aborted one sent (see `events()`).
        let completedIn: Double = 100 * 1024 + 6 + 3
        let completedOut: Double = 100 * 1024
        #expect(bytesIn >= completedIn)
        #expect(bytesIn <= completedIn + 2 * 1024 * 1024)
        #expect(bytesOut >= completedOut)
        #expect(bytesOut < completedOut + 32 * 1024 * 1024)
        #expect(metrics[#"fstpy_storage_errors_total{kind="not_found"}"#] == 1, "the RETR of a missing file")
        for password in Self.passwords {
            #expect(!page.contains(password))
        }
    }

    @Test("ftplib: xferlog gets one parsable line per transfer, complete or not", .enabled(if: enabled))
    func xferlog() async throws {
        let directory = try TemporaryDirectory(prefix: "fstpy-xferlog")
        defer { directory.remove() }
        let path = directory.url.appendingPathComponent("xferlog").path
        let writer = try TransferLogWriter(path: path)
        try await EventsHarness.withServer(configure: { $0.monitoring.eventHandlers = [writer] }) { fixture, port in
            _ = try await EventsHarness.client(["session"], fixture: fixture, port: port)
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 6, "\(text)")
        let fields = lines.map { $0.split(whereSeparator: \.isWhitespace).map(String.init) }
        for (line, parts) in zip(lines, fields) {
            #expect(parts.count == 18, "not 18 fields: \(line)")
            guard parts.count == 18 else { continue }
            #expect(Int(parts[5]).map { $0 >= 1 } == true, "transfer-time: \(line)")
            #expect(parts[6] == "127.0.0.1")
            #expect(Int64(parts[7]) != nil, "file-size: \(line)")
            #expect(parts[10] == "_" && parts[12] == "r" && parts[14] == "ftp" && parts[15] == "0" && parts[16] == "*")
            for password in Self.passwords {
                #expect(!line.contains(password))
            }
        }
        guard fields.count == 6, fields.allSatisfy({ $0.count == 18 }) else { return }
        // filename, type, direction, user, status
        let summary = fields.map { [$0[8], $0[9], $0[11], $0[13], $0[17], $0[7]] }
        #expect(summary[0] == ["/pub/up.bin", "b", "i", "alice", "c", "102400"])
        #expect(summary[1] == ["/pub/up.bin", "b", "o", "alice", "c", "102400"])
        #expect(summary[2] == ["/pub/my_file.txt", "a", "i", "alice", "c", "6"], "a space becomes _")
        #expect(Array(summary[3].prefix(5)) == ["/pub/aborted.bin", "b", "i", "alice", "i"])
        #expect(Array(summary[4].prefix(5)) == ["/pub/big.bin", "b", "o", "alice", "i"])
        #expect(summary[5] == ["/carol/x.txt", "b", "i", "carol", "c", "3"], "the path in the storage")
        // The time fields: "Fri Nov 20 09:12:32 2026".
        let time = fields[0][0..<5].joined(separator: " ")
        let parser = DateFormatter()
        parser.locale = Locale(identifier: "en_US_POSIX")
        parser.dateFormat = "EEE MMM d HH:mm:ss yyyy"
        let logged = try #require(parser.date(from: time), "current-time: \(time)")
        #expect(abs(logged.timeIntervalSinceNow) < 600)
    }

    @Test(
        "ftplib: a handler that never returns delays no transfer; its events are dropped and counted",
        .enabled(if: enabled)
    )
    func stuckHandler() async throws {
        struct Stuck: FTPEventHandler {
            func handle(_ event: FTPEvent) async {
                try? await Task.sleep(for: .seconds(3600))
            }
        }
        let recorder = EventRecorder()
        let registry = PrometheusCollectorRegistry()
        let clock = ContinuousClock()
        let started = clock.now
        try await EventsHarness.withServer(configure: {
            $0.monitoring.eventHandlers = [Stuck(), recorder]
            $0.monitoring.eventBufferSize = 4
            $0.monitoring.eventDrainTimeout = .milliseconds(200)
            $0.monitoring.metricsFactory = PrometheusMetricsFactory(registry: registry)
        }) { fixture, port in
            _ = try await EventsHarness.client(["many", "40"], fixture: fixture, port: port)
        }
        #expect(clock.now - started < .seconds(60), "the server stopped in time despite the stuck handler")
        let metrics = parseMetrics(registry.emitToString())
        // 44 events (connect, login, 40 uploads, logout, disconnect). The stuck handler got the first one; the rest
        // were dropped when its buffer (4) was full, or, for the 4 still buffered, at the end of the drain timeout.
        #expect(metrics[#"fstpy_events_dropped_total{handler="Stuck"}"#] == 43)
        #expect((metrics[#"fstpy_events_dropped_total{handler="EventRecorder"}"#] ?? 0) == 0)
        #expect(recorder.events.count == 44, "the other handler got everything")
        #expect(recorder.events.filter { $0.kind == .fileReceived }.count == 40)
    }
}
