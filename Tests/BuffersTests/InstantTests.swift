import Testing
import Buffers

@Suite struct InstantTests {
    @Test func arithmeticRoundTrips() {
        let t = Instant.zero + .milliseconds(1500)
        #expect(t.nanoseconds == 1_500_000_000)
        #expect(t - Instant.zero == .milliseconds(1500))
        #expect(t - .seconds(1) == .milliseconds(500))
        #expect(Instant.milliseconds(2) > Instant.milliseconds(1))
    }

    @Test func durationNanosecondsSaturates() {
        #expect(Duration.seconds(Int64.max).nanoseconds == .max)
        #expect(Duration.microseconds(-3).nanoseconds == -3_000)
    }
}
