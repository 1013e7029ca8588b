import CLinux
import Glibc

/// A pseudo-terminal pair: the master end this process keeps, and the path of the slave end
/// that another program opens as if it were a serial device (the emulator's modem side).
///
/// The line is put in raw mode so bytes 0x00...0xFF cross unchanged: no echo, no CR/LF
/// mapping, no signal characters. Before the slave is first opened a read of the master
/// would block; once the last holder of the slave closed it, reads fail with `EIO`
/// (`Errno.ioError`) until it is opened again: that means "no peer", not a broken device.
@frozen public struct PseudoTerminal: ~Copyable {
    /// The master end (`/dev/ptmx`), `O_CLOEXEC`, nonblocking unless asked otherwise.
    public var master: FileDescriptor
    /// The slave's path, e.g. `/dev/pts/3`.
    public let slavePath: String

    /// `posix_openpt(3)` + `grantpt(3)` + `unlockpt(3)` + `ptsname_r(3)`, then raw mode
    /// (`cfmakeraw(3)` via `tcsetattr(3)` on the master, which sets the slave's line).
    public static func open(nonblocking: Bool = true) throws(SysError) -> PseudoTerminal {
        let flags = O_RDWR | O_NOCTTY | O_CLOEXEC | (nonblocking ? O_NONBLOCK : 0)
        let master = FileDescriptor(adopting: try syscallValue("posix_openpt", "/dev/ptmx") { clinux_posix_openpt(flags) })
        _ = try syscallValue("grantpt", master.label) { clinux_grantpt(master.rawValue) }
        _ = try syscallValue("unlockpt", master.label) { clinux_unlockpt(master.rawValue) }
        let slavePath = try withUnsafeTemporaryAllocation(of: CChar.self, capacity: 128) {
            (buffer) throws(SysError) -> String in
            // ptsname_r returns the error number instead of setting errno.
            let result = clinux_ptsname_r(master.rawValue, buffer.baseAddress, buffer.count)
            if result != 0 { throw .failed(call: "ptsname_r", subject: master.label, errno: Errno(rawValue: result)) }
            return String(cString: buffer.baseAddress!)
        }
        try Terminal.makeRaw(master.rawValue, subject: slavePath, rtscts: false, speed: nil)
        return PseudoTerminal(master: master, slavePath: slavePath)
    }

    /// Opens the slave end (`open(2)` with `O_RDWR|O_NOCTTY|O_CLOEXEC`).
    ///
    /// Holding it open keeps the master readable (no `EIO`) while the real user of the
    /// slave comes and goes.
    public func openSlave(nonblocking: Bool = true) throws(SysError) -> FileDescriptor {
        try FileDescriptor.open(self.slavePath, O_RDWR | O_NOCTTY | (nonblocking ? O_NONBLOCK : 0))
    }

    /// Points the symlink `linkPath` at `target` (the emulator's `--link PATH`), replacing
    /// an existing symlink atomically (`symlink(2)` to a temporary name, then `rename(2)`).
    ///
    /// Refuses to replace anything that is not a symlink, which could be a user's file.
    public static func link(_ linkPath: String, to target: String) throws(SysError) {
        var status = stat()
        if lstat(linkPath, &status) == 0 {
            if status.st_mode & S_IFMT != S_IFLNK { throw .refusedToReplace(path: linkPath) }
        } else if Errno.current != .noSuchFileOrDirectory {
            throw .failed(call: "lstat", subject: linkPath, errno: .current)
        }
        let temporary = linkPath + ".tmp-\(getpid())"
        _ = unlink(temporary)   // a leftover of an earlier crash of this pid; absent is fine
        _ = try syscallValue("symlink", linkPath) { symlink(target, temporary) }
        do {
            _ = try syscallValue("rename", linkPath) { rename(temporary, linkPath) }
        } catch {
            _ = unlink(temporary)
            throw error
        }
    }
}
