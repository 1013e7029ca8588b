import Buffers

/// A serial line's speed as a token bucket: `--baud N` is N/10 bytes per second each way
/// (8N1: a start bit, eight data bits, a stop bit). Driven by `Instant`, so tests step time.
public struct LineRate: Sendable {
    /// Bytes per second; nil = unthrottled.
    public let bytesPerSecond: Int?
    private var tokens: Double
    private var last: Instant
    /// The most the bucket holds: 10 ms of line time (at least one byte), so a burst after
    /// idle time stays short, as on a real UART that never runs ahead of its clock.
    private let burst: Double

    public init(baud: Int?, now: Instant) {
        if let baud, baud > 0 {
            let rate = max(1, baud / 10)
            self.bytesPerSecond = rate
            self.burst = max(1, Double(rate) / 100)
        } else {
            self.bytesPerSecond = nil
            self.burst = .infinity
        }
        self.tokens = 0
        self.last = now
    }

    /// Whole bytes that may cross the line at `now`.
    public mutating func available(now: Instant) -> Int {
        guard let rate = bytesPerSecond else { return Int.max }
        refill(now: now, rate: rate)
        return Int(tokens)
    }

    /// Records that `count` bytes crossed.
    public mutating func consume(_ count: Int) {
        guard bytesPerSecond != nil else { return }
        tokens = max(0, tokens - Double(count))
    }

    /// When at least one byte may cross again (nil when unthrottled or already possible).
    public func nextByteTime(now: Instant) -> Instant? {
        guard let rate = bytesPerSecond else { return nil }
        let elapsed = Double((now - last).nanoseconds) / 1e9
        let have = min(burst, tokens + elapsed * Double(rate))
        if have >= 1 { return nil }
        let wait = (1 - have) / Double(rate)
        return now + .nanoseconds(Int64(wait * 1e9) + 1)
    }

    private mutating func refill(now: Instant, rate: Int) {
        let elapsed = Double((now - last).nanoseconds) / 1e9
        if elapsed > 0 {
            tokens = min(burst, tokens + elapsed * Double(rate))
            last = now
        }
    }
}
