import Testing
import Buffers
import Sys

@Suite struct ClockTests {
    @Test func monotonicClockNeverGoesBack() {
        var previous = MonotonicClock.now()
        for _ in 0..<1000 {
            let now = MonotonicClock.now()
            #expect(now >= previous)
            previous = now
        }
        #expect(previous > Instant.zero)
    }

    @Test(arguments: [
        (Int64(0), Int32(0), "1970-01-01T00:00:00.000Z"),
        (Int64(1_795_452_225), Int32(123_999_999), "2026-11-23T16:43:45.123Z"),
        (Int64(951_782_400), Int32(5_000_000), "2000-02-29T00:00:00.005Z"),
    ])
    func wallTimeFormatsAsRFC3339(seconds: Int64, nanoseconds: Int32, expected: String) {
        #expect(WallTime(seconds: seconds, nanoseconds: nanoseconds).description == expected)
    }

    @Test func wallClockIsAfter2020() {
        #expect(WallClock.now().seconds > 1_577_836_800)
    }
}
