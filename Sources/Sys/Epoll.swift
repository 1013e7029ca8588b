import CLinux
import Glibc

/// Readiness bits of `epoll_ctl(2)` / `epoll_wait(2)` (`EPOLLIN`, `EPOLLOUT` ...).
public struct EpollEvents: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `EPOLLIN`
    public static let readable = EpollEvents(rawValue: EPOLLIN.rawValue)
    /// `EPOLLOUT`
    public static let writable = EpollEvents(rawValue: EPOLLOUT.rawValue)
    /// `EPOLLRDHUP`: the peer shut down its writing side.
    public static let readHangup = EpollEvents(rawValue: EPOLLRDHUP.rawValue)
    /// `EPOLLERR`: always reported.
    public static let error = EpollEvents(rawValue: EPOLLERR.rawValue)
    /// `EPOLLHUP`: always reported (e.g. a pty master whose slave closed).
    public static let hangup = EpollEvents(rawValue: EPOLLHUP.rawValue)
    /// `EPOLLET`: report changes only; the owner must drain until `.wouldBlock`.
    public static let edgeTriggered = EpollEvents(rawValue: EPOLLET.rawValue)
}

/// A fixed array of `struct epoll_event` that the caller owns and `Epoll.wait` fills:
/// allocated once, so the event loop does not allocate per wakeup.
public struct EpollEventBuffer: ~Copyable {
    let storage: UnsafeMutableBufferPointer<epoll_event>
    /// How many entries the last `Epoll.wait` filled.
    public internal(set) var count: Int = 0

    /// Room for `capacity` events per wait (at least 1).
    public init(capacity: Int) {
        self.storage = .allocate(capacity: max(1, capacity))
        self.storage.initialize(repeating: epoll_event())
    }

    deinit { self.storage.deallocate() }

    /// The most events one wait can report.
    public var capacity: Int { self.storage.count }

    /// The `index`th ready descriptor of the last wait: its token and what is ready.
    public subscript(index: Int) -> (token: UInt64, events: EpollEvents) {
        precondition(index >= 0 && index < self.count, "epoll event \(index) of \(self.count)")
        let event = self.storage[index]
        return (event.data.u64, EpollEvents(rawValue: event.events))
    }
}

/// An epoll instance (`epoll_create1(EPOLL_CLOEXEC)`): the daemon's single wait point.
///
/// Each registration carries a caller-chosen 64-bit `token` (`epoll_data.u64`) that comes
/// back with its events, so the loop can tell the TUN, the serial line, timers, signals and
/// control clients apart without a lookup by descriptor.
public struct Epoll: ~Copyable {
    /// The epoll descriptor itself (it can be nested in another epoll or poll).
    public let descriptor: FileDescriptor

    /// `epoll_create1(EPOLL_CLOEXEC)`.
    public init() throws(SysError) {
        self.descriptor = FileDescriptor(adopting: try syscallValue("epoll_create1") { epoll_create1(CInt(EPOLL_CLOEXEC)) })
    }

    /// `epoll_ctl(EPOLL_CTL_ADD)`: watch `fd` (borrowed: unregister it before closing it).
    public func add(_ fd: CInt, events: EpollEvents, token: UInt64) throws(SysError) {
        try self.control(EPOLL_CTL_ADD, "epoll_ctl(ADD)", fd, events, token)
    }

    /// `epoll_ctl(EPOLL_CTL_MOD)`: change what to watch for (e.g. add `.writable` while a
    /// write is pending, drop it when drained).
    public func modify(_ fd: CInt, events: EpollEvents, token: UInt64) throws(SysError) {
        try self.control(EPOLL_CTL_MOD, "epoll_ctl(MOD)", fd, events, token)
    }

    /// `epoll_ctl(EPOLL_CTL_DEL)`.
    public func delete(_ fd: CInt) throws(SysError) {
        try self.control(EPOLL_CTL_DEL, "epoll_ctl(DEL)", fd, [], 0)
    }

    private func control(_ operation: CInt, _ call: String, _ fd: CInt, _ events: EpollEvents, _ token: UInt64) throws(SysError) {
        var event = epoll_event()
        event.events = events.rawValue
        event.data.u64 = token
        _ = try syscallValue(call, "fd \(fd)") { epoll_ctl(self.descriptor.rawValue, operation, fd, &event) }
    }

    /// `epoll_wait(2)` into `events`; `timeout` nil waits without limit, `.zero` polls.
    ///
    /// The timeout is rounded up to whole milliseconds, so a timer never fires early. A
    /// signal handled during the wait (`EINTR`) ends it with 0 events rather than restarting
    /// it, so the caller recomputes its deadlines.
    /// - Returns: the number of ready entries, also in `events.count`; 0 on timeout.
    @discardableResult
    public func wait(into events: inout EpollEventBuffer, timeout: Duration?) throws(SysError) -> Int {
        let milliseconds: CInt = timeout.map { CInt(clamping: (max(0, $0.nanoseconds) + 999_999) / 1_000_000) } ?? -1
        let storage = events.storage
        let ready = epoll_wait(self.descriptor.rawValue, storage.baseAddress, CInt(clamping: storage.count), milliseconds)
        if ready == -1 {
            events.count = 0
            let errno = Errno.current
            if errno == .interrupted { return 0 }
            if errno == .badFileDescriptor || errno == .badAddress {
                preconditionFailure("epoll_wait: \(errno) — a bug in tun2modem")
            }
            throw .failed(call: "epoll_wait", subject: nil, errno: errno)
        }
        events.count = Int(ready)
        return Int(ready)
    }
}
