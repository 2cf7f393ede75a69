import FTPServer
import Testing

@Suite struct LoginBanTableTests {
    static let start = ContinuousClock.now
    static let policy = FTPService.Configuration.LoginBan(
        maximumFailures: 3,
        window: .seconds(60),
        duration: .seconds(300),
        maximumTrackedAddresses: 20
    )

    static func at(_ seconds: Double) -> ContinuousClock.Instant {
        start + .milliseconds(Int64(seconds * 1000))
    }

    @Test func bansAfterTheThresholdWithinTheWindowAndExpires() {
        var table = LoginBanTable(policy: Self.policy)
        #expect(table.recordFailure("10.0.0.1", now: Self.at(0)) == nil)
        #expect(table.recordFailure("10.0.0.1", now: Self.at(10)) == nil)
        #expect(table.bannedUntil("10.0.0.1", now: Self.at(10)) == nil)
        #expect(table.recordFailure("10.0.0.1", now: Self.at(20)) == Self.at(320))
        #expect(table.bannedUntil("10.0.0.1", now: Self.at(21)) == Self.at(320))
        #expect(table.bannedUntil("10.0.0.2", now: Self.at(21)) == nil, "another address is not banned")
        #expect(table.bannedUntil("10.0.0.1", now: Self.at(319.9)) == Self.at(320))
        #expect(table.bannedUntil("10.0.0.1", now: Self.at(320)) == nil, "the ban expires by itself")
        // The failures that led to the ban are forgotten with it.
        #expect(table.recordFailure("10.0.0.1", now: Self.at(321)) == nil)
        #expect(table.recordFailure("10.0.0.1", now: Self.at(322)) == nil)
    }

    @Test func failuresOutsideTheWindowDoNotCount() {
        var table = LoginBanTable(policy: Self.policy)
        #expect(table.recordFailure("10.0.0.1", now: Self.at(0)) == nil)
        #expect(table.recordFailure("10.0.0.1", now: Self.at(30)) == nil)
        // The first failure is 61 s old: two in the window.
        #expect(table.recordFailure("10.0.0.1", now: Self.at(61)) == nil)
        #expect(table.bannedUntil("10.0.0.1", now: Self.at(61)) == nil)
        #expect(table.recordFailure("10.0.0.1", now: Self.at(62)) != nil)
    }

    @Test func failuresDuringABanDoNotExtendIt() {
        var table = LoginBanTable(policy: Self.policy)
        for second in 0..<3 { table.recordFailure("10.0.0.1", now: Self.at(Double(second))) }
        #expect(table.recordFailure("10.0.0.1", now: Self.at(100)) == nil)
        #expect(table.bannedUntil("10.0.0.1", now: Self.at(100)) == Self.at(302))
    }

    @Test func zeroFailuresMeansNoBan() {
        var table = LoginBanTable(policy: .init(maximumFailures: 0))
        for second in 0..<50 { #expect(table.recordFailure("10.0.0.1", now: Self.at(Double(second))) == nil) }
        #expect(table.count == 0)
    }

    @Test func theTableIsBoundedAndForgetsBansLast() {
        var table = LoginBanTable(policy: Self.policy)
        // Two banned addresses first, then a flood of single failures from new addresses.
        for address in ["192.0.2.1", "192.0.2.2"] {
            for second in 0..<3 { table.recordFailure(address, now: Self.at(Double(second))) }
        }
        for index in 0..<500 {
            table.recordFailure("198.51.100.\(index)", now: Self.at(10 + Double(index) / 100))
            #expect(table.count <= Self.policy.maximumTrackedAddresses)
        }
        #expect(table.bannedUntil("192.0.2.1", now: Self.at(20)) != nil, "a ban survives a flood of new addresses")
        #expect(table.bannedUntil("192.0.2.2", now: Self.at(20)) != nil)
    }
}

@Suite struct TokenBucketTests {
    static let start = ContinuousClock.now

    @Test func aFullBucketLetsItsCapacityThroughThenChargesTheRate() {
        var bucket = TokenBucket(rate: 1000, capacity: 500, now: Self.start)
        #expect(bucket.take(500, now: Self.start) == .zero)
        // 250 bytes of debt at 1000 bytes/s: wait a quarter of a second.
        #expect(bucket.take(250, now: Self.start) == .milliseconds(250))
        // The next request queues behind the debt.
        #expect(bucket.take(1000, now: Self.start) == .milliseconds(1250))
        // Time pays the debt back.
        #expect(bucket.take(0, now: Self.start + .milliseconds(1250)) == .zero)
        #expect(bucket.take(100, now: Self.start + .milliseconds(1250)) == .milliseconds(100))
    }

    @Test func savingsAreCappedAtTheCapacity() {
        var bucket = TokenBucket(rate: 1000, capacity: 500, now: Self.start)
        #expect(bucket.take(600, now: Self.start + .seconds(3600)) == .milliseconds(100))
    }

    @Test func theSustainedRateIsTheLimit() {
        var bucket = TokenBucket(rate: 2 << 20, now: Self.start)
        var now = Self.start
        var moved = 0
        // A sender that always asks for 64 KiB and sleeps exactly as told.
        while now - Self.start < .seconds(10) {
            now += bucket.take(65536, now: now)
            moved += 65536
        }
        let rate = Double(moved) / 10
        #expect(rate > Double(2 << 20) * 0.98 && rate < Double(2 << 20) * 1.05, "\(rate) bytes/s")
    }

    @Test(arguments: [(1000, 16384), (1 << 20, 104_857), (1 << 30, 4 << 20)])
    func quantum(rate: Int, expected: Int) {
        #expect(TokenBucket.quantum(forRate: rate) == expected)
    }
}

@Suite struct FailedLoginDelayTests {
    @Test func theDelayDoublesUpToItsCap() {
        let timeouts = FTPService.Configuration.Timeouts(
            failedLoginDelay: .milliseconds(250),
            maximumFailedLoginDelay: .seconds(1)
        )
        let delays = (1...6).map { timeouts.failedLoginDelay(afterFailures: $0) }
        #expect(
            delays == [
                .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(1), .seconds(1), .seconds(1),
            ]
        )
    }

    @Test func aCapBelowTheBaseKeepsTheBase() {
        let timeouts = FTPService.Configuration.Timeouts(failedLoginDelay: .seconds(2), maximumFailedLoginDelay: .zero)
        #expect(timeouts.failedLoginDelay(afterFailures: 3) == .seconds(2))
    }
}
