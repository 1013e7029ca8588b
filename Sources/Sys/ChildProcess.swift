import CLinux
import Glibc

/// How a child process ended (decoded from `waitpid(2)`'s status).
public enum ExitStatus: Hashable, Sendable, CustomStringConvertible {
    /// `exit(code)` or return from main.
    case exited(Int32)
    /// Killed by a signal.
    case signalled(Signal)

    public var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .signalled(let signal): "killed by \(signal)"
        }
    }
}

/// A process this one started with `posix_spawn(3)`, whose stdout may be a pipe we read
/// (the daemon starts `tun2modem-sim` and reads its `pty: /dev/pts/N` line).
///
/// Nothing here waits implicitly: call `wait()` or `tryWait()` (e.g. on `SIGCHLD`) so the
/// child does not linger as a zombie.
@frozen public struct ChildProcess: ~Copyable {
    /// The child's process id.
    public let pid: pid_t
    /// The read end of the child's stdout when it was captured; `nil` otherwise.
    public var standardOutput: FileDescriptor?

    /// Starts `executable` (an absolute or relative path; no `PATH` search) with
    /// `arguments` (without argv[0], which is the executable path) and `environment`
    /// (`KEY=VALUE` strings; `nil` passes this process's own environment on).
    ///
    /// The child gets an empty signal mask and default dispositions
    /// (`POSIX_SPAWN_SETSIGMASK|POSIX_SPAWN_SETSIGDEF`): the daemon blocks `SIGTERM` and
    /// friends for its `SignalFD` and ignores `SIGPIPE`, which children must not inherit.
    /// With `captureStandardOutput`, the child's stdout is a pipe (`pipe2(O_CLOEXEC)` +
    /// `posix_spawn_file_actions_adddup2`) read through `standardOutput`, and with
    /// `mergeStandardError` the child's stderr goes into the same pipe; otherwise stdin and
    /// stderr are inherited. No other descriptor crosses, since all carry `O_CLOEXEC`.
    public static func spawn(
        _ executable: String,
        arguments: [String] = [],
        environment: [String]? = nil,
        captureStandardOutput: Bool = true,
        mergeStandardError: Bool = false,
        nonblockingOutput: Bool = false
    ) throws(SysError) -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var pipe: Pipe? = nil
        if captureStandardOutput {
            let created = try Pipe()
            // Only our end: O_NONBLOCK on the write end would reach the child's stdout.
            // Set before spawning, so no failure can leave a child we do not return.
            if nonblockingOutput { try created.readEnd.setNonblocking(true) }
            // dup2 onto 1 clears O_CLOEXEC on the child's copy only; both pipe ends
            // themselves close on exec.
            posix_spawn_file_actions_adddup2(&actions, created.writeEnd.rawValue, STDOUT_FILENO)
            if mergeStandardError {
                posix_spawn_file_actions_adddup2(&actions, created.writeEnd.rawValue, STDERR_FILENO)
            }
            pipe = consume created
        }

        let argv = ([executable] + arguments).map { strdup($0) }
        let envp = environment?.map { strdup($0) }
        defer {
            argv.forEach { free($0) }
            envp?.forEach { free($0) }
        }
        var pid = pid_t()
        let result = (argv + [nil]).withUnsafeBufferPointer { argvPointer in
            ((envp ?? []) + [nil]).withUnsafeBufferPointer { envpPointer in
                posix_spawn(&pid, executable, &actions, &attributes,
                            UnsafeMutablePointer(mutating: argvPointer.baseAddress!),
                            envp == nil ? clinux_environ() : UnsafeMutablePointer(mutating: envpPointer.baseAddress!))
            }
        }
        // posix_spawn returns the error number instead of setting errno.
        if result != 0 {
            throw .failed(call: "posix_spawn", subject: executable, errno: Errno(rawValue: result))
        }
        guard let pipe = pipe.take() else {
            return ChildProcess(pid: pid, standardOutput: nil)
        }
        let readEnd = pipe.readEnd
        // The parent's copy of the write end must go, or reads would never see EOF.
        _ = consume pipe.writeEnd
        return ChildProcess(pid: pid, standardOutput: readEnd)
    }

    /// `pidfd_open(2)`: a descriptor that becomes readable when the child exits, to put in
    /// the event loop's epoll instead of handling `SIGCHLD` (which needs a signal mask
    /// every thread shares). Then `tryWait()` collects the status. Close-on-exec.
    public func exitDescriptor() throws(SysError) -> FileDescriptor {
        FileDescriptor(adopting: try syscallValue("pidfd_open", "pid \(self.pid)") { clinux_pidfd_open(self.pid) })
    }

    /// `kill(2)`: sends `signal` to the child.
    public func send(_ signal: Signal) throws(SysError) {
        _ = try syscallValue("kill", "pid \(self.pid)") { kill(self.pid, signal.rawValue) }
    }

    /// `waitpid(pid, WNOHANG)`: the exit status if the child has ended, else `nil`.
    /// Call it once more after it returned a status and it throws `ECHILD`.
    public func tryWait() throws(SysError) -> ExitStatus? {
        try Self.waitpid(self.pid, options: WNOHANG)
    }

    /// `waitpid(pid, 0)`: blocks until the child ends.
    public func wait() throws(SysError) -> ExitStatus {
        // Without WNOHANG, waitpid only returns a pid that has changed state.
        while true {
            if let status = try Self.waitpid(self.pid, options: 0) { return status }
        }
    }

    static func waitpid(_ pid: pid_t, options: CInt) throws(SysError) -> ExitStatus? {
        var status: CInt = 0
        let waited = try syscallValue("waitpid", "pid \(pid)") { Glibc.waitpid(pid, &status, options) }
        guard waited == pid else { return nil }
        if clinux_wifexited(status) != 0 { return .exited(clinux_wexitstatus(status)) }
        if clinux_wifsignaled(status) != 0 { return .signalled(Signal(rawValue: clinux_wtermsig(status))) }
        return nil   // stopped or continued: only reported with WUNTRACED/WCONTINUED, not used
    }
}
