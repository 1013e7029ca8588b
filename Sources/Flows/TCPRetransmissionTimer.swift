import Buffers

/// The retransmission timeout of one flow, computed as RFC 6298 §2 says: SRTT and RTTVAR
/// from RTT samples (α = 1/8, β = 1/4, K = 4), doubled on each expiry (§5.5), kept between a
/// floor and a ceiling.
///
/// The floor defaults to 200 ms, below RFC 6298's 1 s (§2.4 "SHOULD"): the app's kernel is
/// on the same host, its RTT is microseconds, and a 1 s floor would stall a flow for a second
/// on every lost segment. Linux uses the same 200 ms floor (TCP_RTO_MIN).
struct TCPRetransmissionTimer {
    private(set) var smoothedRTT: Duration?
    private(set) var rttVariance: Duration = .zero
    /// The current timeout, backoff included.
    private(set) var timeout: Duration
    let minimum: Duration
    let maximum: Duration
    /// Clock granularity G of RFC 6298 §2: one millisecond (Instant is nanoseconds, but the
    /// event loop wakes at millisecond resolution).
    private static let granularity: Duration = .milliseconds(1)

    init(initial: Duration, minimum: Duration, maximum: Duration) {
        self.minimum = minimum
        self.maximum = max(minimum, maximum)
        self.timeout = Self.clamp(initial, minimum, self.maximum)
    }

    /// Takes one RTT measurement (never from a retransmitted segment: Karn's rule, §3).
    mutating func sample(_ rtt: Duration) {
        let rtt = max(rtt, .zero)
        if let srtt = smoothedRTT {
            // RFC 6298 §2.3: RTTVAR before SRTT, with the old SRTT.
            let error = srtt > rtt ? srtt - rtt : rtt - srtt
            // `scaled`/`divided`: the generic `*` and `/` cost hundreds of instructions each.
            rttVariance = (rttVariance.scaled(by: 3) + error).divided(by: 4)
            smoothedRTT = (srtt.scaled(by: 7) + rtt).divided(by: 8)
        } else {
            // RFC 6298 §2.2: the first measurement.
            smoothedRTT = rtt
            rttVariance = rtt.divided(by: 2)
        }
        let srtt = smoothedRTT ?? rtt
        timeout = Self.clamp(srtt + max(Self.granularity, rttVariance.scaled(by: 4)), minimum, maximum)
    }

    /// RFC 6298 §5.5: the timer expired; back off.
    mutating func backOff() {
        timeout = min(maximum, timeout.scaled(by: 2))
    }

    /// New data was acknowledged: the path works again, so the backed-off timeout gives
    /// way to the estimate. RFC 6298 §5.7 would keep the backoff until a fresh sample; but
    /// when every new segment ends up retransmitted (a receiver that discards out-of-order
    /// data, steady loss), Karn's rule never yields one, and the doubled timeout would
    /// starve the flow for minutes.
    mutating func forwardProgress() {
        let base = smoothedRTT.map { $0 + max(Self.granularity, rttVariance.scaled(by: 4)) } ?? timeout
        timeout = Self.clamp(min(base, timeout), minimum, maximum)
    }

    private static func clamp(_ d: Duration, _ lo: Duration, _ hi: Duration) -> Duration {
        min(max(d, lo), hi)
    }
}
