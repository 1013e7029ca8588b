import Buffers
import Testing
@testable import ModemSim

@Suite struct LineRateTests {
    @Test func unthrottledAllowsEverything() {
        var rate = LineRate(baud: nil, now: .zero)
        #expect(rate.available(now: .zero) == Int.max)
        #expect(rate.nextByteTime(now: .zero) == nil)
    }

    /// 115200 baud, 8N1: 11,520 bytes per second, measured over a simulated 10 s transfer.
    @Test(arguments: [9600, 115200, 921600])
    func sustainedRateIsBaudOverTen(baud: Int) {
        var rate = LineRate(baud: baud, now: .zero)
        var now = Instant.zero
        var moved = 0
        let end = Instant.zero + .seconds(10)
        var steps = 0
        while now < end && steps < 10_000_000 {
            let n = rate.available(now: now)
            if n > 0 {
                rate.consume(n)
                moved += n
            }
            now = rate.nextByteTime(now: now) ?? (now + .milliseconds(1))
            steps += 1
        }
        let expected = Double(baud / 10) * 10
        #expect(abs(Double(moved) - expected) / expected < 0.005, "moved \(moved), expected \(expected)")
    }

    @Test func burstAfterIdleIsBounded() {
        var rate = LineRate(baud: 115200, now: .zero)
        // An hour of idle line does not let a megabyte through at once: 10 ms worth at most.
        let n = rate.available(now: .zero + .seconds(3600))
        #expect(n == 115)
    }

    @Test func nextByteTimeIsWhenOneByteIsDue() {
        var rate = LineRate(baud: 9600, now: .zero)
        #expect(rate.available(now: .zero) == 0)
        let next = rate.nextByteTime(now: .zero)
        #expect(next != nil)
        if let next {
            let waited = (next - Instant.zero).nanoseconds
            #expect(waited >= 1_041_000 && waited <= 1_043_000)
            #expect(rate.available(now: next) == 1)
        }
    }
}
