import FTPEventHandlers
import FTPServer
import Foundation
import NIOCore
import Testing

/// `--pubport`: the ZeroMQ PUB socket, against real libzmq subscribers (pyzmq from PyPI).
@Suite("ZeroMQ PUB (pyzmq)", .serialized)
struct ZeroMQPublisherTests {
    static let enabled = Interop.available("python3") || Interop.required
    static let script = Interop.targetDirectory().appendingPathComponent("Clients/zmq_subscriber.py").path

    /// Waits until the publisher holds `count` subscriptions (a subscription reaches the publisher some time after
    /// the subscriber's call returns, so messages published before would be lost, as with any PUB socket).
    static func waitForSubscriptions(
        _ publisher: ZeroMQPublisher,
        _ count: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while publisher.subscriptionCount != count {
            guard ContinuousClock.now < deadline else {
                Issue.record(
                    "the publisher holds \(publisher.subscriptionCount) subscriptions, not \(count)",
                    sourceLocation: sourceLocation
                )
                throw InteropError.failed("subscriptions did not arrive")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func subscriber(_ python: String, _ arguments: [String]) async throws -> [String: Any] {
        let result = try await ProcessRunner.run(python, [Self.script] + arguments, timeout: .seconds(90))
        #expect(result.status == 0, "zmq_subscriber.py \(arguments.joined(separator: " ")): \(result.summary)")
        let data = Data(result.standardOutput.utf8)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(result.summary)")
    }

    @Test(
        "pyzmq: SUB sockets get \"<first segment> <path>\" for each file received, filtered by topic",
        .enabled(if: enabled)
    )
    func published() async throws {
        let python = try await PythonVenv.python()
        let publisher = try await ZeroMQPublisher.bind(host: "127.0.0.1", port: 0)
        let endpoint = "tcp://127.0.0.1:\(publisher.localAddress.port ?? 0)"
        try await EventsHarness.withServer(
            services: [publisher],
            configure: { $0.monitoring.eventHandlers = [publisher] }
        ) { fixture, port in
            async let everything = Self.subscriber(python, ["sub", endpoint, "", "--until", "end "])
            async let chan = Self.subscriber(python, ["sub", endpoint, "chan", "end", "--until", "end "])
            try await Self.waitForSubscriptions(publisher, 3)
            // An aborted upload and a download first: neither is announced.
            _ = try await EventsHarness.client(["session"], fixture: fixture, port: port)
            _ = try await EventsHarness.client(
                ["upload", "/chan/a.txt", "/other/b.txt", "/top.txt", "/chan/sub/c d.txt", "/end/marker"],
                fixture: fixture,
                port: port
            )
            let all = try await everything["messages"] as? [String]
            let filtered = try await chan["messages"] as? [String]
            // The session's own completed uploads come first (alice's /pub files, carol's /x.txt as she sees it).
            #expect(
                all == [
                    "pub /pub/up.bin", "pub /pub/my file.txt", "x.txt /x.txt", "chan /chan/a.txt",
                    "other /other/b.txt", "top.txt /top.txt", "chan /chan/sub/c d.txt", "end /end/marker",
                ]
            )
            #expect(filtered == ["chan /chan/a.txt", "chan /chan/sub/c d.txt", "end /end/marker"])
        }
    }

    /// Two batches of uploads around a change of subscriptions: `/chan/a.txt`, `/other/b.txt`, `/end/1`; then, once
    /// the subscriber has cancelled "chan" (the publisher holds `remaining` subscriptions), `/chan/c.txt`, `/end/2`.
    static func cancelRound(
        mode: String,
        minorVersion: UInt8,
        subscriptions: Int,
        remaining: Int
    ) async throws -> (first: [String]?, second: [String]?) {
        let python = try await PythonVenv.python()
        var configuration = ZeroMQPublisher.Configuration()
        configuration.minorVersion = minorVersion
        let publisher = try await ZeroMQPublisher.bind(host: "127.0.0.1", port: 0, configuration: configuration)
        let endpoint = "tcp://127.0.0.1:\(publisher.localAddress.port ?? 0)"
        return try await EventsHarness.withServer(
            services: [publisher],
            configure: { $0.monitoring.eventHandlers = [publisher] }
        ) { fixture, port in
            async let subscriber = Self.subscriber(python, [mode, endpoint])
            try await Self.waitForSubscriptions(publisher, subscriptions)
            _ = try await EventsHarness.client(
                ["upload", "/chan/a.txt", "/other/b.txt", "/end/1"],
                fixture: fixture,
                port: port
            )
            // The subscriber cancels "chan" once it has /end/1: the publisher must take it into account.
            try await Self.waitForSubscriptions(publisher, remaining)
            _ = try await EventsHarness.client(["upload", "/chan/c.txt", "/end/2"], fixture: fixture, port: port)
            let result = try await subscriber
            return (result["first"] as? [String], result["second"] as? [String])
        }
    }

    @Test(
        "pyzmq: XSUB (which does not filter) shows the publisher filters by topic and honours a cancel",
        .enabled(if: enabled)
    )
    func publisherSideFiltering() async throws {
        // libzmq's XSUB sends its subscriptions as messages (1/0 + topic), whatever the ZMTP version.
        let result = try await Self.cancelRound(mode: "xsub", minorVersion: 1, subscriptions: 2, remaining: 1)
        #expect(result.first == ["chan /chan/a.txt", "end /end/1"], "/other/b.txt is not sent")
        #expect(result.second == ["end /end/2"])
    }

    @Test(
        "pyzmq: SUB's SUBSCRIBE and CANCEL, as ZMTP 3.1 commands and as ZMTP 3.0 messages",
        .enabled(if: enabled),
        arguments: [UInt8(1), 0]
    )
    func subscribeAndCancel(minorVersion: UInt8) async throws {
        let result = try await Self.cancelRound(
            mode: "sub-cancel",
            minorVersion: minorVersion,
            subscriptions: 2,
            remaining: 1
        )
        #expect(result.first == ["chan /chan/a.txt", "end /end/1"])
        #expect(result.second == ["end /end/2"])
    }

    @Test(
        "pyzmq: a subscriber that stops reading loses messages past the high-water mark; publishing never waits",
        .enabled(if: enabled)
    )
    func highWaterMark() async throws {
        let python = try await PythonVenv.python()
        var configuration = ZeroMQPublisher.Configuration()
        configuration.highWaterMark = 50
        let publisher = try await ZeroMQPublisher.bind(host: "127.0.0.1", port: 0, configuration: configuration)
        defer { Task { await publisher.close() } }
        let endpoint = "tcp://127.0.0.1:\(publisher.localAddress.port ?? 0)"
        async let slow = Self.subscriber(python, ["slow", endpoint, "4"])
        try await Self.waitForSubscriptions(publisher, 1)
        let count = 4000
        let message = "big " + String(repeating: "x", count: 16 * 1024)
        let clock = ContinuousClock()
        let started = clock.now
        for _ in 0..<count {
            publisher.publish(message)
        }
        let publishing = clock.now - started
        let result = try await slow
        await publisher.close()
        let received = try #require(result["count"] as? Int)
        #expect(publishing < .seconds(3), "publishing \(count) messages took \(publishing)")
        #expect(publisher.droppedMessages > 0, "64 MiB cannot fit in the buffers of a subscriber that does not read")
        #expect(received > 0)
        #expect(Int64(received) + publisher.droppedMessages == Int64(count), "each message is delivered or dropped")
        #expect(result["sizes"] as? [Int] == [message.utf8.count], "messages arrive whole")
    }
}
