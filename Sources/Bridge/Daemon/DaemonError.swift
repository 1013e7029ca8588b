import Sys

/// Why the daemon cannot start: what is missing and how to fix it (`run` exits 69).
public struct DaemonError: Error, CustomStringConvertible {
    public let problem: String
    public let fix: String

    public init(_ problem: String, fix: String) {
        self.problem = problem
        self.fix = fix
    }

    public var description: String { "\(self.problem) (\(self.fix))" }

    /// The TUN device could not be made: the usual causes, named.
    static func tun(_ error: SysError, name: String) -> DaemonError {
        switch error.errno {
        case .noSuchFileOrDirectory?:
            return DaemonError("no /dev/net/tun", fix: "load the tun module: modprobe tun")
        case .notPermitted?, .permissionDenied?:
            return DaemonError("cannot create TUN interface \(name): \(error)",
                               fix: "run as root or with CAP_NET_ADMIN")
        default:
            return DaemonError("cannot create TUN interface \(name): \(error)", fix: "check that TUN is usable here")
        }
    }
}
