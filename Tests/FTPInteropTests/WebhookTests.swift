import FTPEventHandlers
import FTPServer
import Foundation
import Testing

/// The webhook against a real HTTP server (Python's http.server in `Clients/http_receiver.py`).
@Suite("Webhook (http.server)", .serialized)
struct WebhookTests {
    static let enabled = Interop.available("python3") || Interop.required

    /// A running `http_receiver.py`: its URL, and what it recorded.
    struct Receiver {
        let directory: TemporaryDirectory
        let port: Int
        let finished: Task<ProcessResult, any Error>

        var url: URL { URL(string: "http://127.0.0.1:\(self.port)/hooks/ftp")! }

        static func start(delay: Double = 0) async throws -> Receiver {
            let python = try Interop.tool("python3")
            let directory = try TemporaryDirectory(prefix: "fstpy-webhook")
            let script = Interop.targetDirectory().appendingPathComponent("Clients/http_receiver.py").path
            let portFile = directory.url.appendingPathComponent("port").path
            let arguments = [
                script, portFile, directory.url.appendingPathComponent("records").path,
                directory.url.appendingPathComponent("stop").path, "\(delay)",
            ]
            let finished = Task { try await ProcessRunner.run(python, arguments, timeout: .seconds(300)) }
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text) {
                    return Receiver(directory: directory, port: port, finished: finished)
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            finished.cancel()
            throw InteropError.failed("http_receiver.py did not start")
        }

        /// Stops the receiver; returns the JSON bodies it got, in order.
        func stop() async throws -> [[String: Any]] {
            _ = FileManager.default.createFile(
                atPath: self.directory.url.appendingPathComponent("stop").path,
                contents: nil
            )
            let result = try await self.finished.value
            #expect(result.status == 0, "http_receiver.py: \(result.summary)")
            defer { self.directory.remove() }
            let text =
                (try? String(contentsOf: self.directory.url.appendingPathComponent("records"), encoding: .utf8)) ?? ""
            return try text.split(separator: "\n").map { line in
                let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                #expect(record["path"] as? String == "/hooks/ftp")
                #expect(record["content_type"] as? String == "application/json")
                let body = try #require(record["body"] as? String)
                for password in EventsTests.passwords {
                    #expect(!body.contains(password), "a webhook body contains a password: \(body)")
                }
                return try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            }
        }
    }

    @Test("webhook: every event is posted as JSON to a real HTTP server", .enabled(if: enabled))
    func delivered() async throws {
        let receiver = try await Receiver.start()
        let webhook = try WebhookEventHandler(configuration: .init(url: receiver.url))
        let recorder = EventRecorder()
        try await EventsHarness.withServer(
            services: [webhook],
            configure: { $0.monitoring.eventHandlers = [webhook, recorder] }
        ) { fixture, port in
            _ = try await EventsHarness.client(["session"], fixture: fixture, port: port)
        }
        let bodies = try await receiver.stop()
        #expect(webhook.deliveredEvents == 16 && webhook.failedDeliveries == 0 && webhook.droppedEvents == 0)
        // Up to 4 requests are in flight at once, so bodies may arrive out of order: compare as sets.
        func key(_ session: Any?, _ event: Any?, _ path: Any?) -> String {
            "\(session ?? "-") \(event ?? "-") \(path ?? "-")"
        }
        let posted = bodies.map { key($0["session"] as? Int, $0["event"] as? String, $0["path"] as? String) }
        let expected = recorder.events.map { key(Int($0.session), $0.kind.rawValue, $0.transfer?.path) }
        #expect(posted.count == 16 && Set(posted) == Set(expected), "\(posted)")
        let upload = try #require(
            bodies.first { $0["event"] as? String == "file_received" && $0["user"] as? String == "carol" }
        )
        #expect(upload["path"] as? String == "/x.txt")
        #expect(upload["backend_path"] as? String == "/carol/x.txt")
        #expect(upload["bytes"] as? Int == 3)
        #expect(upload["address"] as? String == "127.0.0.1")
        #expect(upload["result"] as? String == "completed")
        #expect((upload["duration"] as? Double).map { $0 >= 0 && $0 < 60 } == true)
        #expect((upload["time"] as? String)?.hasSuffix("Z") == true)
        let failed = bodies.filter { $0["event"] as? String == "login_failed" }
        #expect(Set(failed.compactMap { $0["user"] as? String }) == ["nobody", "alice"])
    }

    @Test(
        "webhook: a slow receiver (2 s a request) still gets every event, and transfers do not wait for it",
        .enabled(if: enabled)
    )
    func slowReceiver() async throws {
        let receiver = try await Receiver.start(delay: 2)
        let webhook = try WebhookEventHandler(configuration: .init(url: receiver.url, drainTimeout: .seconds(60)))
        let elapsed = try await EventsHarness.withServer(
            services: [webhook],
            configure: { $0.monitoring.eventHandlers = [webhook] }
        ) { fixture, port in
            let result = try await EventsHarness.client(["many", "10"], fixture: fixture, port: port)
            return Double(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .infinity
        }
        let bodies = try await receiver.stop()
        // 14 events at 2 s each take 28 s one after the other, 8 s 4 at a time: the uploads (well under a second
        // when the machine is idle) are done long before, and the rest goes out during the drain.
        #expect(elapsed < 8, "10 uploads took \(elapsed) s with a slow webhook receiver")
        #expect(webhook.deliveredEvents == 14 && webhook.droppedEvents == 0 && webhook.failedDeliveries == 0)
        #expect(bodies.count == 14)
        #expect(bodies.filter { $0["event"] as? String == "file_received" }.count == 10)
    }

    @Test("webhook: a receiver that never answers slows no transfer; the queue drops and counts", .enabled(if: enabled))
    func hungReceiver() async throws {
        let receiver = try await Receiver.start(delay: 3600)
        let webhook = try WebhookEventHandler(
            configuration: .init(
                url: receiver.url,
                queueSize: 4,
                concurrency: 2,
                timeout: .seconds(120),
                drainTimeout: .milliseconds(300)
            )
        )
        let clock = ContinuousClock()
        let started = clock.now
        let elapsed = try await EventsHarness.withServer(
            services: [webhook],
            configure: { $0.monitoring.eventHandlers = [webhook] }
        ) { fixture, port in
            let result = try await EventsHarness.client(["many", "30"], fixture: fixture, port: port)
            return Double(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .infinity
        }
        let total = clock.now - started
        let bodies = try await receiver.stop()
        // 34 events: 2 in the two hung requests (cancelled at the end of the drain timeout: failures), 1 waiting
        // for a free slot and 4 in the queue (dropped at the end of the drain timeout), the rest dropped as they came.
        #expect(elapsed < 20, "30 uploads took \(elapsed) s with a hung webhook receiver")
        #expect(total < .seconds(60), "shutdown waited for the hung receiver: \(total)")
        #expect(webhook.droppedEvents == 32, "dropped \(webhook.droppedEvents)")
        #expect(webhook.failedDeliveries == 2)
        #expect(webhook.deliveredEvents == 0)
        #expect(bodies.count == 2, "the receiver saw the two requests in flight")
    }
}
