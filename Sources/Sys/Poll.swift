import Buffers
import Glibc

/// Readiness conditions of `poll(2)`: `POLLIN`, `POLLOUT`, and the ones it reports unasked.
public struct PollEvents: OptionSet, Hashable, Sendable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// `POLLIN`: a read will not block.
    public static let readable = PollEvents(rawValue: Int16(POLLIN))
    /// `POLLOUT`: a write will not block.
    public static let writable = PollEvents(rawValue: Int16(POLLOUT))
    /// `POLLERR`: an error is pending (always reported).
    public static let error = PollEvents(rawValue: Int16(POLLERR))
    /// `POLLHUP`: the peer hung up (always reported).
    public static let hangup = PollEvents(rawValue: Int16(POLLHUP))
    /// `POLLNVAL`: the number is not an open descriptor (always reported).
    public static let invalid = PollEvents(rawValue: Int16(POLLNVAL))
}

/// One descriptor to wait on, and what `Poll.wait` found for it.
public struct PollRequest: Hashable, Sendable {
    /// A borrowed descriptor number (`FileDescriptor.rawValue`).
    public var fd: CInt
    /// What to wait for.
    public var events: PollEvents
    /// What happened; set by `Poll.wait`.
    public var returned: PollEvents

    /// Wait on `fd` (borrowed) for `events`.
    public init(fd: CInt, events: PollEvents) {
        self.fd = fd
        self.events = events
        self.returned = []
    }
}

/// `poll(2)`, for simple blocking loops (`tun2modem probe`); the daemon itself uses `Epoll`.
public enum Poll {
    /// Waits until one of `requests` is ready or `timeout` passes (`nil`: no limit).
    ///
    /// An interrupting signal does not shorten or lengthen the wait: the call is resumed
    /// with the time left on the monotonic clock.
    /// - Returns: how many requests have non-empty `returned`; 0 on timeout.
    public static func wait(_ requests: inout [PollRequest], timeout: Duration?) throws(SysError) -> Int {
        var fds = requests.map { pollfd(fd: $0.fd, events: $0.events.rawValue, revents: 0) }
        let deadline = timeout.map { MonotonicClock.now() + $0 }
        var ready: CInt
        while true {
            let milliseconds: CInt
            if let deadline {
                let left = max(0, (deadline - MonotonicClock.now()).nanoseconds)
                // Round up: waking 0.4 ms early would report a timeout that has not passed.
                milliseconds = CInt(clamping: (left + 999_999) / 1_000_000)
            } else {
                milliseconds = -1
            }
            ready = Glibc.poll(&fds, nfds_t(fds.count), milliseconds)
            if ready >= 0 { break }
            let errno = Errno.current
            if errno == .interrupted { continue }
            if errno == .badAddress { preconditionFailure("poll: \(errno) — a bug in tun2modem") }
            throw .failed(call: "poll", subject: nil, errno: errno)
        }
        for index in requests.indices {
            requests[index].returned = PollEvents(rawValue: fds[index].revents)
        }
        return Int(ready)
    }
}
