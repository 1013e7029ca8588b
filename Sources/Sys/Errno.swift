import Glibc

/// A POSIX error number (`errno`), with readable names for the ones the daemon meets.
///
/// Stands for the C `int errno` and the `E*` constants of `<errno.h>`; `description` is the
/// C library's `strerror(3)` text, so messages read like those of other Linux tools.
public struct Errno: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: CInt

    @inlinable public init(rawValue: CInt) { self.rawValue = rawValue }

    /// The calling thread's `errno` right now.
    @inlinable public static var current: Errno { Errno(rawValue: Glibc.errno) }

    /// `EPERM`
    public static let notPermitted = Errno(rawValue: EPERM)
    /// `ENOENT`
    public static let noSuchFileOrDirectory = Errno(rawValue: ENOENT)
    /// `ESRCH`
    public static let noSuchProcess = Errno(rawValue: ESRCH)
    /// `EINTR`: a signal arrived during the call; `syscall` retries it.
    public static let interrupted = Errno(rawValue: EINTR)
    /// `EIO`: e.g. a pty master whose slave is not open, a USB serial adapter unplugged.
    public static let ioError = Errno(rawValue: EIO)
    /// `ENXIO`
    public static let noSuchDeviceOrAddress = Errno(rawValue: ENXIO)
    /// `EBADF`: a program bug; `syscall` traps on it.
    public static let badFileDescriptor = Errno(rawValue: EBADF)
    /// `ECHILD`
    public static let noChildProcess = Errno(rawValue: ECHILD)
    /// `EAGAIN` (= `EWOULDBLOCK` on Linux): a nonblocking call found nothing to do.
    public static let wouldBlock = Errno(rawValue: EAGAIN)
    /// `ENOMEM`
    public static let noMemory = Errno(rawValue: ENOMEM)
    /// `EACCES`
    public static let permissionDenied = Errno(rawValue: EACCES)
    /// `EFAULT`: a bad pointer, a program bug; `syscall` traps on it.
    public static let badAddress = Errno(rawValue: EFAULT)
    /// `EBUSY`
    public static let resourceBusy = Errno(rawValue: EBUSY)
    /// `EEXIST`
    public static let fileExists = Errno(rawValue: EEXIST)
    /// `ENODEV`
    public static let noSuchDevice = Errno(rawValue: ENODEV)
    /// `ENOTDIR`
    public static let notDirectory = Errno(rawValue: ENOTDIR)
    /// `EINVAL`
    public static let invalidArgument = Errno(rawValue: EINVAL)
    /// `ENFILE`
    public static let tooManyOpenFilesInSystem = Errno(rawValue: ENFILE)
    /// `EMFILE`
    public static let tooManyOpenFiles = Errno(rawValue: EMFILE)
    /// `ENOTTY`: an ioctl the file does not understand, e.g. termios on a regular file.
    public static let notATerminal = Errno(rawValue: ENOTTY)
    /// `ENOSPC`
    public static let noSpace = Errno(rawValue: ENOSPC)
    /// `EPIPE`: the reader went away.
    public static let brokenPipe = Errno(rawValue: EPIPE)
    /// `ENAMETOOLONG`
    public static let nameTooLong = Errno(rawValue: ENAMETOOLONG)
    /// `EOPNOTSUPP`
    public static let notSupported = Errno(rawValue: EOPNOTSUPP)
    /// `EADDRINUSE`
    public static let addressInUse = Errno(rawValue: EADDRINUSE)
    /// `EADDRNOTAVAIL`
    public static let addressNotAvailable = Errno(rawValue: EADDRNOTAVAIL)
    /// `ENETUNREACH`
    public static let networkUnreachable = Errno(rawValue: ENETUNREACH)
    /// `ENOBUFS`: e.g. a netlink socket whose receive queue overflowed.
    public static let noBufferSpace = Errno(rawValue: ENOBUFS)
    /// `ECONNRESET`
    public static let connectionReset = Errno(rawValue: ECONNRESET)
    /// `ECONNREFUSED`
    public static let connectionRefused = Errno(rawValue: ECONNREFUSED)
    /// `ETIMEDOUT`
    public static let timedOut = Errno(rawValue: ETIMEDOUT)
    /// `EINPROGRESS`
    public static let inProgress = Errno(rawValue: EINPROGRESS)

    /// `strerror(3)`, e.g. "No such file or directory".
    public var description: String {
        guard let text = strerror(self.rawValue) else { return "errno \(self.rawValue)" }
        return String(cString: text)
    }
}
