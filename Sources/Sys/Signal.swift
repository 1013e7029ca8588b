import Glibc

/// A POSIX signal number, with names for the ones the daemon sends or handles.
public struct Signal: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: CInt
    public init(rawValue: CInt) { self.rawValue = rawValue }

    /// `SIGHUP`: reload.
    public static let hangup = Signal(rawValue: SIGHUP)
    /// `SIGINT`: Ctrl-C.
    public static let interrupt = Signal(rawValue: SIGINT)
    /// `SIGKILL`: cannot be caught.
    public static let kill = Signal(rawValue: SIGKILL)
    /// `SIGUSR1`
    public static let user1 = Signal(rawValue: SIGUSR1)
    /// `SIGUSR2`
    public static let user2 = Signal(rawValue: SIGUSR2)
    /// `SIGPIPE`: a write to a pipe or socket nobody reads.
    public static let brokenPipe = Signal(rawValue: SIGPIPE)
    /// `SIGTERM`: stop (systemd, kill).
    public static let terminate = Signal(rawValue: SIGTERM)
    /// `SIGCHLD`: a child process changed state.
    public static let child = Signal(rawValue: SIGCHLD)

    /// `strsignal(3)`-style name, e.g. `SIGTERM`.
    public var description: String {
        switch self.rawValue {
        case SIGHUP: "SIGHUP"
        case SIGINT: "SIGINT"
        case SIGKILL: "SIGKILL"
        case SIGUSR1: "SIGUSR1"
        case SIGUSR2: "SIGUSR2"
        case SIGPIPE: "SIGPIPE"
        case SIGTERM: "SIGTERM"
        case SIGCHLD: "SIGCHLD"
        case SIGSEGV: "SIGSEGV"
        case SIGABRT: "SIGABRT"
        case SIGILL: "SIGILL"
        case SIGTRAP: "SIGTRAP"
        default: "signal \(self.rawValue)"
        }
    }

    /// Ignores this signal process-wide (`sigaction(SIG_IGN)`); the daemon does this for
    /// `SIGPIPE` so a vanished peer is an `EPIPE` error, not death.
    public func ignore() throws(SysError) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = SIG_IGN
        sigemptyset(&action.sa_mask)
        _ = try syscallValue("sigaction", self.description) { sigaction(self.rawValue, &action, nil) }
    }

    /// `raise(3)`: sends this signal to the calling thread (tests, self-wakeup). A thread
    /// that blocks it and reads a `SignalFD` receives it there.
    public func raiseInCurrentThread() throws(SysError) {
        _ = try syscallValue("raise", self.description) { Glibc.raise(self.rawValue) }
    }
}
