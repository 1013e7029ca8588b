import CLinux
import Glibc

/// What `SignalFD.read` reports about one delivered signal (`struct signalfd_siginfo`).
public struct SignalInfo: Hashable, Sendable {
    /// The signal.
    public var signal: Signal
    /// `ssi_pid`: who sent it, or which child changed state for `SIGCHLD`.
    public var senderPID: pid_t
    /// `ssi_uid`: the sender's real user id.
    public var senderUID: uid_t

    public init(signal: Signal, senderPID: pid_t, senderUID: uid_t) {
        self.signal = signal
        self.senderPID = senderPID
        self.senderUID = senderUID
    }
}

/// Signals as readable events (`signalfd(2)`): the daemon handles `SIGTERM`, `SIGINT`,
/// `SIGHUP` and `SIGCHLD` in its event loop instead of in async-signal handlers.
///
/// A signal reaches a signalfd only while it is blocked, so `init` blocks them with
/// `pthread_sigmask(SIG_BLOCK)` in the calling thread. Create it on the main thread before
/// any other thread starts (new threads inherit the mask), or process-directed signals may
/// go to a thread that does not block them. `ChildProcess.spawn` gives children an empty
/// mask again.
public struct SignalFD: ~Copyable {
    /// The signals the daemon's event loop handles.
    public static let daemonSignals: [Signal] = [.terminate, .interrupt, .hangup, .child]

    /// Register this for `.readable`.
    public let descriptor: FileDescriptor

    /// Blocks `signals` in this thread (`pthread_sigmask`) and opens
    /// `signalfd(-1, mask, SFD_NONBLOCK|SFD_CLOEXEC)` for them.
    public init(_ signals: [Signal]) throws(SysError) {
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in signals { sigaddset(&mask, signal.rawValue) }
        // pthread_sigmask returns the error number instead of setting errno.
        let blocked = pthread_sigmask(SIG_BLOCK, &mask, nil)
        if blocked != 0 { throw .failed(call: "pthread_sigmask", subject: nil, errno: Errno(rawValue: blocked)) }
        let flags = CInt(SFD_NONBLOCK) | CInt(SFD_CLOEXEC)
        self.descriptor = FileDescriptor(adopting: try syscallValue("signalfd") { signalfd(-1, &mask, flags) })
    }

    /// `read(2)` of one `signalfd_siginfo`, or `.wouldBlock` when none is pending.
    public func read() throws(SysError) -> IOResult<SignalInfo> {
        var info = signalfd_siginfo()
        let result = try withUnsafeMutableBytes(of: &info) { (bytes) throws(SysError) in
            try self.descriptor.read(into: bytes)
        }
        switch result {
        case .wouldBlock:
            return .wouldBlock
        case .processed:
            // The kernel writes whole records only: a short read cannot happen.
            return .processed(SignalInfo(
                signal: Signal(rawValue: CInt(bitPattern: info.ssi_signo)),
                senderPID: pid_t(bitPattern: info.ssi_pid),
                senderUID: info.ssi_uid))
        }
    }
}
