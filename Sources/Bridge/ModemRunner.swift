import AT
import Buffers
import Modems
import Sys

/// Drives a sans-I/O `ModemDriver` over a serial fd with `poll(2)` and the real clock,
/// blocking the calling thread. `tun2modem probe` and the integration tests use it; the
/// daemon drives the same driver from its epoll loop instead.
public final class ModemRunner {
    public let driver: any ModemDriver
    /// The same nonblocking read/write machinery as the daemon's (resumed partial writes).
    private let link: SerialLink
    /// Bytes read from and written to the serial fd.
    public var bytesIn: Int { self.link.bytesRead }
    public var bytesOut: Int { self.link.bytesWritten }
    /// The other end hung up (read returned 0): nothing more will be read; the driver's
    /// timeouts report the silence.
    public private(set) var hungUp = false

    public init(driver: any ModemDriver, port: consuming FileDescriptor) {
        self.driver = driver
        self.link = SerialLink(port: port, path: "serial")
    }

    /// Runs until `stop` returns true for an event (→ true) or `deadline` passes (→ false).
    /// Events after the stopping one stay queued in the driver for the next call.
    public func run(until deadline: Instant, stop: (ModemEvent) -> Bool) throws(SysError) -> Bool {
        while true {
            try self.flush()
            while let event = self.driver.nextEvent() {
                if stop(event) { return true }
            }
            try self.flush()
            let now = MonotonicClock.now()
            if now >= deadline { return false }
            var wake = deadline
            if let d = self.driver.nextDeadline, d < wake { wake = d }
            var events: PollEvents = self.hungUp ? [] : [.readable]
            if self.link.isBlocked { events.insert(.writable) }
            // A hung-up fd reports POLLHUP whatever is asked: then only the timer is waited on.
            var requests = events.isEmpty ? [] : [PollRequest(fd: self.link.rawDescriptor, events: events)]
            let wait = max(Duration.zero, wake - now)
            _ = try Poll.wait(&requests, timeout: wait)
            let returned = requests.first?.returned ?? []
            if !self.hungUp, !returned.intersection([.readable, .hangup, .error]).isEmpty {
                let open = try self.link.readAvailable { self.driver.received($0, now: MonotonicClock.now()) }
                if !open { self.hungUp = true }
            }
            self.driver.tick(now: MonotonicClock.now())
        }
    }

    /// Pumps for `duration` (or until `stop`), for tests that wait for "anything".
    public func run(for duration: Duration, stop: (ModemEvent) -> Bool) throws(SysError) -> Bool {
        try self.run(until: MonotonicClock.now() + duration, stop: stop)
    }

    /// Writes as much of the driver's output as the fd takes now.
    private func flush() throws(SysError) {
        try self.link.flush { self.driver.nextWrite() }
    }
}
