import Glibc

/// The process's standard output or error: the daemon's log lines and the CLI's output go
/// through it, since nothing above `Sys` imports Glibc.
///
/// It borrows fd 1 or 2 and never closes it.
public struct StandardStream: Sendable {
    /// The descriptor number: 1 or 2.
    public let rawValue: CInt

    /// fd 1 (`STDOUT_FILENO`).
    public static let output = StandardStream(rawValue: STDOUT_FILENO)
    /// fd 2 (`STDERR_FILENO`).
    public static let error = StandardStream(rawValue: STDERR_FILENO)

    /// Writes all of `text` with `write(2)`, resuming after partial writes and `EINTR`.
    ///
    /// Never fails and never blocks for long: a reader that went away (`EPIPE`, with
    /// `SIGPIPE` ignored) or a closed descriptor drops the text, and a nonblocking pipe
    /// that stays full for 100 ms drops the rest. A log line is not worth stalling the
    /// event loop for.
    public func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(self.rawValue, bytes.baseAddress! + offset, bytes.count - offset)
                if written > 0 {
                    offset += written
                    continue
                }
                let errno = Errno.current
                if written == -1 && errno == .interrupted { continue }
                if written == -1 && errno == .wouldBlock {
                    var request = pollfd(fd: self.rawValue, events: Int16(POLLOUT), revents: 0)
                    if Glibc.poll(&request, 1, 100) > 0 { continue }
                }
                return   // EPIPE, EBADF (no stderr), EIO, or still full: drop the text
            }
        }
    }
}

/// Environment variables of this process (`getenv(3)`).
public enum Environment {
    /// The value of `name`, or `nil` when it is not set.
    public static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}

/// The running process itself.
public enum CurrentProcess {
    /// `exit(3)`: ends the process with `code` (after flushing C stdio buffers).
    public static func exit(_ code: Int32) -> Never {
        Glibc.exit(code)
    }

    /// `getpid(2)`
    public static var id: pid_t { getpid() }
}
