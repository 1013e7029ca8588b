import Buffers
import Sys

/// The daemon's side of a `Type=notify` systemd service with `WatchdogSec=`: readiness,
/// watchdog pings, reload and stop notices (sd_notify(3)), through `Sys.SystemdNotify`
/// (no libsystemd).
///
/// Sans-I/O in time: the daemon passes `now`, arms a timer for `nextPing` and calls
/// `ping(now:)` when it fires; pings go out at half the watchdog interval, as
/// sd_watchdog_enabled(3) advises. Pings start only after `ready`: a daemon stuck in
/// bring-up is then killed by `TimeoutStartSec=`, not kept alive by its own timer.
/// Without `$NOTIFY_SOCKET` every call does nothing.
public struct SystemdLifecycle {
    /// The interval systemd expects pings within, nil without a watchdog.
    public let watchdogInterval: Duration?
    private let notify: (String) -> Void
    public private(set) var nextPing: Instant?
    public private(set) var isReady = false
    /// Messages handed to `notify`, for logs and tests.
    public private(set) var sentCount = 0

    /// Reads `$WATCHDOG_USEC`/`$WATCHDOG_PID` and sends to `$NOTIFY_SOCKET`; a failed send
    /// is ignored (systemd going away must not stop the data path).
    public init() {
        self.init(watchdogInterval: SystemdNotify.watchdogInterval()) { state in
            _ = try? SystemdNotify.send(state)
        }
    }

    /// With an injected interval and sender (tests).
    public init(watchdogInterval: Duration?, notify: @escaping (String) -> Void) {
        self.watchdogInterval = watchdogInterval.flatMap { $0 > .zero ? $0 : nil }
        self.notify = notify
    }

    /// Half the watchdog interval: how often `ping` sends.
    public var pingInterval: Duration? { self.watchdogInterval.map { $0 / 2 } }

    /// The service is up (after bring-up, or after a reload): `READY=1` and a status line.
    public mutating func ready(now: Instant, status: String? = nil) {
        self.send("READY=1" + (status.map { "\nSTATUS=" + Self.oneLine($0) } ?? ""))
        self.isReady = true
        if let every = self.pingInterval { self.nextPing = now + every }
    }

    /// Sends `WATCHDOG=1` when a ping is due at `now`, and schedules the next one.
    /// - Returns: whether a ping was sent.
    @discardableResult
    public mutating func ping(now: Instant) -> Bool {
        guard let due = self.nextPing, let every = self.pingInterval, now >= due else { return false }
        self.send("WATCHDOG=1")
        // From now, not from `due`: a late loop must not send a burst of catch-up pings.
        self.nextPing = now + every
        return true
    }

    /// A SIGHUP reload begins (`RELOADING=1`); call `ready` when it is done.
    public mutating func reloading(now: Instant) {
        let usec = now.nanoseconds / 1000
        self.send("RELOADING=1\nMONOTONIC_USEC=\(usec)")
    }

    /// Shutting down (SIGTERM): `STOPPING=1`; no more pings.
    public mutating func stopping() {
        self.send("STOPPING=1")
        self.nextPing = nil
        self.isReady = false
    }

    /// `STATUS=...`, shown by `systemctl status`.
    public mutating func status(_ text: String) {
        self.send("STATUS=" + Self.oneLine(text))
    }

    private mutating func send(_ state: String) {
        self.sentCount += 1
        self.notify(state)
    }

    /// A status is one line of the notify message: newlines would start new assignments.
    static func oneLine(_ s: String) -> String {
        String(s.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}
