/// Every failure of the `Sys` layer, as a reason a user (or the stats) can act on.
///
/// `description` is a complete message: `open /dev/ttyUSB9: No such file or directory`,
/// `device busy: /dev/ttyUSB2: another process holds it`.
public enum SysError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed. `call` is the C function (`open`, `ioctl(TUNSETIFF)`), `subject`
    /// what it was applied to (a path, an interface, `fd 7`), when known.
    case failed(call: String, subject: String?, errno: Errno)
    /// A netlink request failed and the kernel said why (extended ACK), e.g. "ipv4: Address
    /// already assigned"; otherwise netlink failures are `.failed`.
    case refusedByKernel(call: String, subject: String?, errno: Errno, reason: String)
    /// A serial device is open elsewhere: its `flock(2)` or `TIOCEXCL` is held.
    case deviceBusy(path: String)
    /// Linux has no `B*` termios constant for this rate.
    case unsupportedBaudRate(Int)
    /// The device accepted the termios call but runs at another rate (its driver rounded it).
    case baudRateNotApplied(path: String, requested: Int, actual: Int)
    /// A name is longer than the kernel's buffer for it (`IFNAMSIZ`, `sun_path`).
    case nameTooLong(String, limit: Int)
    /// A string that should be an address, prefix or route is not one.
    case invalidAddress(String)
    /// `--link PATH` exists and is not a symlink; replacing it could destroy a user's file.
    case refusedToReplace(path: String)
    /// `getpwnam_r` / `getgrnam_r` found no such user or group.
    case unknownUser(String)
    /// After `setuid` the process could still regain its old privileges.
    case privilegesNotDropped(String)
    /// The kernel answered a netlink request with something we cannot read.
    case malformedNetlinkReply(String)
    /// A message does not fit the fixed buffer the caller gave for it.
    case messageTooLong(Int, limit: Int)

    /// The error number, when the failure came from a system call.
    public var errno: Errno? {
        switch self {
        case .failed(_, _, let errno), .refusedByKernel(_, _, let errno, _): return errno
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .failed(let call, let subject?, let errno):
            return "\(call) \(subject): \(errno)"
        case .failed(let call, nil, let errno):
            return "\(call): \(errno)"
        case .refusedByKernel(let call, let subject, let errno, let reason):
            return "\(call)\(subject.map { " " + $0 } ?? ""): \(errno) (\(reason))"
        case .deviceBusy(let path):
            return "device busy: \(path): another process holds it"
        case .unsupportedBaudRate(let rate):
            return "unsupported baud rate \(rate): Linux termios has no constant for it"
        case .baudRateNotApplied(let path, let requested, let actual):
            return "\(path): asked for \(requested) baud, the driver set \(actual)"
        case .nameTooLong(let name, let limit):
            return "name too long: \(name) (at most \(limit) bytes)"
        case .invalidAddress(let text):
            return "not an address or prefix: \(text)"
        case .refusedToReplace(let path):
            return "\(path) exists and is not a symlink; refusing to replace it"
        case .unknownUser(let name):
            return "no such user or group: \(name)"
        case .privilegesNotDropped(let detail):
            return "privileges not dropped: \(detail)"
        case .malformedNetlinkReply(let detail):
            return "malformed netlink reply: \(detail)"
        case .messageTooLong(let length, let limit):
            return "message of \(length) bytes exceeds the \(limit)-byte buffer"
        }
    }
}
