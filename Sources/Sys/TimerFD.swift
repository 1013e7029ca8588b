import Buffers
import CLinux
import Glibc

/// A timer that becomes readable when it expires (`timerfd_create(CLOCK_MONOTONIC)`), so
/// timeouts arrive through epoll like any other event.
///
/// It runs on the same clock as `MonotonicClock`, so a sans-I/O layer's next deadline
/// (an `Instant`) can be armed as is with `schedule(at:)`.
public struct TimerFD: ~Copyable {
    /// Register this for `.readable`.
    public let descriptor: FileDescriptor

    /// `timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK|TFD_CLOEXEC)`, disarmed.
    public init() throws(SysError) {
        let flags = CInt(TFD_NONBLOCK) | CInt(TFD_CLOEXEC)
        self.descriptor = FileDescriptor(adopting: try syscallValue("timerfd_create") { timerfd_create(CLOCK_MONOTONIC, flags) })
    }

    /// `timerfd_settime(2)` relative: first expiry after `delay`, then every `interval`
    /// when given (periodic), else once. A zero or negative delay fires as soon as possible.
    public func schedule(after delay: Duration, repeating interval: Duration? = nil) throws(SysError) {
        try self.arm(flags: 0, first: max(1, delay.nanoseconds), interval: interval)
    }

    /// `timerfd_settime(TFD_TIMER_ABSTIME)`: first expiry at `deadline` on the monotonic
    /// clock (a deadline already past fires at once), then every `interval` when given.
    public func schedule(at deadline: Instant, repeating interval: Duration? = nil) throws(SysError) {
        try self.arm(flags: CInt(TFD_TIMER_ABSTIME), first: max(1, deadline.nanoseconds), interval: interval)
    }

    /// Disarms the timer (`timerfd_settime` with a zero value).
    public func cancel() throws(SysError) {
        try self.arm(flags: 0, first: 0, interval: nil)
    }

    private func arm(flags: CInt, first: Int64, interval: Duration?) throws(SysError) {
        var setting = itimerspec()
        setting.it_value = Self.timespec(first)
        // A zero interval means one-shot to the kernel; clamp a requested period to ≥1 ns.
        setting.it_interval = Self.timespec(interval.map { max(1, $0.nanoseconds) } ?? 0)
        _ = try syscallValue("timerfd_settime", self.descriptor.label) {
            timerfd_settime(self.descriptor.rawValue, flags, &setting, nil)
        }
    }

    private static func timespec(_ nanoseconds: Int64) -> Glibc.timespec {
        Glibc.timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
    }

    /// `read(2)` of the 8-byte expiration counter: how many times the timer fired since
    /// the last read (more than 1 when the loop was late), or `.wouldBlock` if it has not.
    public func readExpirations() throws(SysError) -> IOResult<UInt64> {
        var count: UInt64 = 0
        let result = try withUnsafeMutableBytes(of: &count) { (bytes) throws(SysError) in
            try self.descriptor.read(into: bytes)
        }
        switch result {
        case .wouldBlock: return .wouldBlock
        case .processed: return .processed(count)
        }
    }
}
