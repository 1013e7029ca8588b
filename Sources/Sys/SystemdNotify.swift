import CLinux
import Glibc

/// The systemd service notification protocol (sd_notify(3)), without libsystemd: datagrams
/// such as `READY=1`, `STOPPING=1`, `WATCHDOG=1`, `STATUS=...` to `$NOTIFY_SOCKET`.
public enum SystemdNotify {
    /// Sends `state` to `$NOTIFY_SOCKET`.
    /// - Returns: `false` when the variable is unset (not started by systemd, or not
    ///   `Type=notify`), so callers need no special case.
    @discardableResult
    public static func send(_ state: String) throws(SysError) -> Bool {
        guard let socket = Environment.value("NOTIFY_SOCKET"), !socket.isEmpty else {
            return false
        }
        try send(state, to: socket)
        return true
    }

    /// Sends `state` as one datagram to the socket `path`: a filesystem path, or an
    /// abstract name written `@name` (`socket(AF_UNIX, SOCK_DGRAM|SOCK_CLOEXEC)`,
    /// `sendto(2)`).
    public static func send(_ state: String, to path: String) throws(SysError) {
        let address = try UnixAddress(path)
        let type = CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue)
        let socket = FileDescriptor(adopting: try syscallValue("socket(AF_UNIX)", path) { Glibc.socket(AF_UNIX, type, 0) })
        let bytes = Array(state.utf8)
        let sent = try syscallValue("sendto", path) {
            address.withSockaddr { sendto(socket.rawValue, bytes, bytes.count, CInt(MSG_NOSIGNAL), $0, $1) }
        }
        guard sent == bytes.count else { throw .messageTooLong(bytes.count, limit: sent) }
    }

    /// The watchdog timeout systemd expects `WATCHDOG=1` within (`$WATCHDOG_USEC`), when
    /// it is meant for this process (`$WATCHDOG_PID` unset or equal to our pid). Send
    /// the ping at least every half of it, as sd_watchdog_enabled(3) advises.
    public static func watchdogInterval() -> Duration? {
        watchdogInterval(
            microseconds: Environment.value("WATCHDOG_USEC"),
            pid: Environment.value("WATCHDOG_PID"),
            currentPID: getpid())
    }

    /// `watchdogInterval()` from given variable values (what the tests drive).
    public static func watchdogInterval(microseconds: String?, pid: String?, currentPID: pid_t) -> Duration? {
        guard let microseconds, let value = Int64(microseconds), value > 0 else { return nil }
        if let pid {
            guard let owner = pid_t(pid), owner == currentPID else { return nil }
        }
        return .microseconds(value)
    }
}
