import AT
import Buffers
import Modems
import Sys

/// Drives a sans-I/O `ModemDriver` over a serial fd with `poll(2)` and the real clock,
/// blocking the calling thread. `tun2modem probe` and the integration tests use it; the
/// daemon drives the same driver from its epoll loop instead.
public final class ModemRunner {
    public let driver: any ModemDriver
    private let port: FileDescriptor
    /// The write in progress: its pieces, and how far into them the fd has taken.
    private var writing: ATWrite?
    private var piece = 0
    private var offset = 0
    private var readBuffer: [UInt8] = Array(repeating: 0, count: 4096)
    /// Bytes read from and written to the serial fd.
    public private(set) var bytesIn = 0
    public private(set) var bytesOut = 0
    /// The other end hung up (read returned 0): nothing more will be read; the driver's
    /// timeouts report the silence.
    public private(set) var hungUp = false

    public init(driver: any ModemDriver, port: consuming FileDescriptor) {
        self.driver = driver
        self.port = port
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
            if self.writing != nil { events.insert(.writable) }
            // A hung-up fd reports POLLHUP whatever is asked: then only the timer is waited on.
            var requests = events.isEmpty ? [] : [PollRequest(fd: self.port.rawValue, events: events)]
            let wait = max(Duration.zero, wake - now)
            _ = try Poll.wait(&requests, timeout: wait)
            let returned = requests.first?.returned ?? []
            if !self.hungUp, !returned.intersection([.readable, .hangup, .error]).isEmpty {
                try self.readAvailable()
            }
            self.driver.tick(now: MonotonicClock.now())
        }
    }

    /// Pumps for `duration` (or until `stop`), for tests that wait for "anything".
    public func run(for duration: Duration, stop: (ModemEvent) -> Bool) throws(SysError) -> Bool {
        try self.run(until: MonotonicClock.now() + duration, stop: stop)
    }

    private func readAvailable() throws(SysError) {
        while true {
            // The closure cannot throw a typed error through withUnsafeMutableBytes.
            let attempt = self.readBuffer.withUnsafeMutableBytes { buffer in
                Result { () throws(SysError) -> IOResult<Int> in try self.port.read(into: buffer) }
            }
            let result = try attempt.get()
            switch result {
            case .wouldBlock:
                return
            case .processed(0):
                self.hungUp = true
                return
            case .processed(let n):
                self.bytesIn += n
                self.driver.received(self.readBuffer[0..<n], now: MonotonicClock.now())
            }
        }
    }

    /// Writes as much of the driver's output as the fd takes now.
    private func flush() throws(SysError) {
        while true {
            if self.writing == nil {
                guard let next = self.driver.nextWrite() else { return }
                self.writing = next
                self.piece = 0
                self.offset = 0
            }
            guard let w = self.writing else { return }
            if self.piece >= w.parts.count {
                self.writing = nil
                continue
            }
            let part = w.parts[self.piece]
            let start = part.index(part.startIndex, offsetBy: self.offset)
            let attempt = part[start...].withUnsafeBytes { bytes in
                Result { () throws(SysError) -> IOResult<Int> in try self.port.write(bytes) }
            }
            let result = try attempt.get()
            switch result {
            case .wouldBlock:
                return
            case .processed(let n):
                self.bytesOut += n
                self.offset += n
                if self.offset >= part.count {
                    self.piece += 1
                    self.offset = 0
                }
            }
        }
    }
}
