import Glibc
import Buffers

/// A failed system call of the emulator's I/O shell, with its name and errno.
public struct SystemError: Error, CustomStringConvertible {
    public var call: String
    public var errno: Int32
    public var description: String { "\(call): \(String(cString: strerror(errno)))" }
}

/// Small wrappers over the calls the I/O shell makes. The emulator is a separate program,
/// not part of the daemon, so it uses Glibc directly (ARCHITECTURE.md, module ModemSim).
enum Posix {
    static func check(_ result: Int32, _ call: String) throws(SystemError) -> Int32 {
        if result < 0 { throw SystemError(call: call, errno: errno) }
        return result
    }

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    static func setCloseOnExec(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFD)
        if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
    }

    /// CLOCK_MONOTONIC as an `Instant`.
    static func now() -> Instant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Instant(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }

    /// Writes all of `bytes` to a blocking descriptor (stdout, the transcript file).
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return }
            offset += n
        }
    }

    static func writeAll(_ fd: Int32, _ text: String) { writeAll(fd, Array(text.utf8)) }
}

