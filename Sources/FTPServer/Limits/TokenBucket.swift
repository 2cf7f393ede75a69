/// A token bucket in bytes, as a value: the caller supplies the time, so the arithmetic is tested without a clock.
///
/// Tokens flow in at `rate` bytes a second and are saved up to `capacity` (the burst an idle bucket allows). A
/// request takes its bytes at once, going into debt when there are not enough, and is told how long to wait before
/// using them; the next request finds the debt and waits longer. So transfers sharing a bucket are served in turn
/// and their total stays at the rate, with one sleep per request and no polling.
package struct TokenBucket: Sendable {
    package typealias Instant = ContinuousClock.Instant

    /// Bytes a second.
    package let rate: Int
    /// The most bytes saved up.
    package let capacity: Int
    private var tokens: Double
    private var last: Instant

    /// A full bucket.
    package init(rate: Int, capacity: Int, now: Instant) {
        self.rate = max(1, rate)
        self.capacity = max(1, capacity)
        self.tokens = Double(self.capacity)
        self.last = now
    }

    /// A bucket for `rate` whose capacity is one ``quantum(forRate:)``.
    package init(rate: Int, now: Instant) {
        self.init(rate: rate, capacity: Self.quantum(forRate: rate), now: now)
    }

    /// Takes `bytes` and returns how long to wait before using them (zero when they were saved up already).
    package mutating func take(_ bytes: Int, now: Instant) -> Duration {
        if now > self.last {
            let elapsed = (now - self.last).secondsAsDouble
            self.tokens = min(Double(self.capacity), self.tokens + elapsed * Double(self.rate))
            self.last = now
        }
        self.tokens -= Double(max(0, bytes))
        guard self.tokens < 0 else { return .zero }
        return .nanoseconds(Int64((-self.tokens / Double(self.rate) * 1e9).rounded(.up)))
    }

    /// The piece of a paced transfer: a tenth of a second's worth of bytes, between 16 KiB and 4 MiB. Small enough
    /// that the pace is smooth, large enough that a fast limit costs few wake-ups.
    package static func quantum(forRate rate: Int) -> Int {
        min(4 << 20, max(16 << 10, rate / 10))
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    package var secondsAsDouble: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Seconds with millisecond precision, for logs ("1.250").
    package var logText: String {
        let milliseconds = Int64((self.secondsAsDouble * 1000).rounded())
        let sign = milliseconds < 0 ? "-" : ""
        let magnitude = abs(milliseconds)
        let fraction = String(magnitude % 1000)
        return "\(sign)\(magnitude / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}
