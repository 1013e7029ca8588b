import Glibc

/// The result of a call on a nonblocking descriptor: it did something, or it would block.
///
/// Would-block is an ordinary answer, not an error (cf. swift-nio's `IOResult`).
public enum IOResult<Value> {
    /// The call completed with this value (for read and write: a byte count).
    case processed(Value)
    /// `EAGAIN`: wait for readiness (epoll) and try again.
    case wouldBlock
}

extension IOResult: Sendable where Value: Sendable {}
extension IOResult: Equatable where Value: Equatable {}

/// Runs a C call that returns -1 and sets `errno` on failure.
///
/// - Retries `EINTR`.
/// - Returns `EAGAIN` as `.wouldBlock`.
/// - Traps on `EBADF` and `EFAULT`: a closed descriptor or a bad pointer is a bug in this
///   program, and carrying on would act on some other file.
/// - Throws anything else as `SysError.failed` naming the call and its subject.

func syscall<T: FixedWidthInteger>(
    _ call: @autoclosure () -> String,
    _ subject: @autoclosure () -> String? = nil,
    _ body: () -> T
) throws(SysError) -> IOResult<T> {
    while true {
        let result = body()
        if result != -1 { return .processed(result) }
        let errno = Errno.current
        switch errno {
        case .interrupted:
            continue
        case .wouldBlock:
            return .wouldBlock
        case .badFileDescriptor, .badAddress:
            preconditionFailure("\(call()) \(subject() ?? ""): \(errno) — a bug in tun2modem")
        default:
            throw .failed(call: call(), subject: subject(), errno: errno)
        }
    }
}

/// `syscall` for calls that cannot meaningfully would-block (open, bind, ioctl ...):
/// `EAGAIN` is thrown like any other error.

func syscallValue<T: FixedWidthInteger>(
    _ call: @autoclosure () -> String,
    _ subject: @autoclosure () -> String? = nil,
    _ body: () -> T
) throws(SysError) -> T {
    switch try syscall(call(), subject(), body) {
    case .processed(let value): return value
    case .wouldBlock: throw .failed(call: call(), subject: subject(), errno: .wouldBlock)
    }
}
