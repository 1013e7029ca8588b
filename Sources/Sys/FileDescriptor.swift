import CLinux
import Glibc

/// An open file descriptor that this value owns: it is closed exactly once, by `close()` or
/// when the value goes away (`deinit`). Being `~Copyable`, it cannot be closed twice nor used
/// after close.
///
/// Every descriptor `Sys` creates carries `O_CLOEXEC`, so none leaks into spawned children.
/// For epoll and poll, borrow the number with `rawValue`; the owner must outlive that use.
public struct FileDescriptor: ~Copyable {
    /// The descriptor number, for epoll registration and logging. Do not close it.
    public let rawValue: CInt

    /// Takes ownership of a descriptor number, e.g. one a C library returned.
    public init(adopting rawValue: CInt) {
        self.rawValue = rawValue
    }

    deinit {
        // close(2) on Linux releases the descriptor even when it reports EINTR or EIO, so
        // it is never retried; EBADF would mean a double close, a bug.
        if Glibc.close(self.rawValue) == -1 && Glibc.errno == EBADF {
            preconditionFailure("close fd \(self.rawValue): \(Errno.badFileDescriptor) — a bug in tun2modem")
        }
    }

    /// `close(2)`, reporting the error that `deinit` would swallow (e.g. `EIO` from a
    /// device that lost data on the way out).
    public consuming func close() throws(SysError) {
        let fd = self.rawValue
        discard self
        if Glibc.close(fd) == -1 {
            let errno = Errno.current
            if errno == .badFileDescriptor {
                preconditionFailure("close fd \(fd): \(errno) — a bug in tun2modem")
            }
            if errno != .interrupted {
                throw .failed(call: "close", subject: "fd \(fd)", errno: errno)
            }
        }
    }

    /// Gives up ownership without closing: the caller now owns the number.
    public consuming func relinquish() -> CInt {
        let fd = self.rawValue
        discard self
        return fd
    }

    var label: String { "fd \(self.rawValue)" }

    /// `open(2)` with `O_CLOEXEC` always added; `permissions` apply when `.create` makes
    /// the file (minus the umask).
    public static func open(
        _ path: String, _ flags: OpenFlags, permissions: UInt32 = 0
    ) throws(SysError) -> FileDescriptor {
        try self.open(path, flags.rawValue, permissions: mode_t(permissions))
    }

    /// `open(2)` with raw `O_*` flags (inside `Sys` and tests); `O_CLOEXEC` always added.
    public static func open(
        _ path: String, _ flags: CInt, permissions: mode_t = 0
    ) throws(SysError) -> FileDescriptor {
        let fd = try syscallValue("open", path) { Glibc.open(path, flags | O_CLOEXEC, permissions) }
        return FileDescriptor(adopting: fd)
    }

    /// `read(2)` into `buffer`; `.processed(0)` means end of file (or a hung-up peer).
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SysError) -> IOResult<Int> {
        try syscall("read", self.label) { Glibc.read(self.rawValue, buffer.baseAddress, buffer.count) }
    }

    /// `write(2)` of `bytes`; may write fewer bytes than given.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(SysError) -> IOResult<Int> {
        try syscall("write", self.label) { Glibc.write(self.rawValue, bytes.baseAddress, bytes.count) }
    }

    /// `write(2)` of bytes held in an array (AT commands, CLI replies); may write fewer.
    public func write(_ bytes: ArraySlice<UInt8>) throws(SysError) -> IOResult<Int> {
        // withUnsafeBytes rethrows untyped errors, so the call's Result crosses it.
        try bytes.withUnsafeBytes { raw in
            Result { () throws(SysError) in try self.write(raw) }
        }.get()
    }

    /// `write(2)` of bytes held in an array; may write fewer.
    public func write(_ bytes: [UInt8]) throws(SysError) -> IOResult<Int> {
        try self.write(bytes[...])
    }

    /// `send(2)` with `MSG_NOSIGNAL`, for sockets: a peer that went away is an `EPIPE`
    /// error (`Errno.brokenPipe`) instead of a `SIGPIPE` that would end the daemon, even
    /// where `SIGPIPE` is not ignored. A `tun2modem stats` client may close at any time.
    public func send(_ bytes: UnsafeRawBufferPointer) throws(SysError) -> IOResult<Int> {
        try syscall("send", self.label) { Glibc.send(self.rawValue, bytes.baseAddress, bytes.count, CInt(MSG_NOSIGNAL)) }
    }

    /// `writev(2)`: writes the pieces in order as one call, so a header and a payload that
    /// live in different buffers leave without being copied together. May write fewer
    /// bytes than the pieces hold; at most `IOV_MAX` (1024) pieces.
    public func writev<Pieces: Collection>(
        _ pieces: Pieces
    ) throws(SysError) -> IOResult<Int> where Pieces.Element == UnsafeRawBufferPointer {
        let count = pieces.count
        precondition(count <= Int(clinux_iov_max()), "writev: \(count) pieces exceed IOV_MAX")
        return try withUnsafeTemporaryAllocation(of: iovec.self, capacity: max(count, 1)) {
            (vectors) throws(SysError) -> IOResult<Int> in
            for (index, piece) in zip(0..., pieces) {
                vectors[index] = iovec(iov_base: UnsafeMutableRawPointer(mutating: piece.baseAddress), iov_len: piece.count)
            }
            return try syscall("writev", self.label) {
                Glibc.writev(self.rawValue, vectors.baseAddress, CInt(count))
            }
        }
    }

    /// `readv(2)`: fills the buffers in order as one call (e.g. both halves of a ring).
    public func readv<Buffers: Collection>(
        into buffers: Buffers
    ) throws(SysError) -> IOResult<Int> where Buffers.Element == UnsafeMutableRawBufferPointer {
        let count = buffers.count
        precondition(count <= Int(clinux_iov_max()), "readv: \(count) buffers exceed IOV_MAX")
        return try withUnsafeTemporaryAllocation(of: iovec.self, capacity: max(count, 1)) {
            (vectors) throws(SysError) -> IOResult<Int> in
            for (index, buffer) in zip(0..., buffers) {
                vectors[index] = iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
            }
            return try syscall("readv", self.label) {
                Glibc.readv(self.rawValue, vectors.baseAddress, CInt(count))
            }
        }
    }

    /// Whether `O_NONBLOCK` is set (`fcntl(F_GETFL)`).
    public func isNonblocking() throws(SysError) -> Bool {
        let flags = try syscallValue("fcntl(F_GETFL)", self.label) { clinux_fcntl_getfl(self.rawValue) }
        return flags & O_NONBLOCK != 0
    }

    /// Sets or clears `O_NONBLOCK` (`fcntl(F_SETFL)`).
    public func setNonblocking(_ nonblocking: Bool) throws(SysError) {
        let flags = try syscallValue("fcntl(F_GETFL)", self.label) { clinux_fcntl_getfl(self.rawValue) }
        let wanted = nonblocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        if wanted != flags {
            _ = try syscallValue("fcntl(F_SETFL)", self.label) { clinux_fcntl_setfl(self.rawValue, wanted) }
        }
    }

    /// Whether `FD_CLOEXEC` is set (`fcntl(F_GETFD)`): every descriptor of `Sys` has it.
    public func isCloseOnExec() throws(SysError) -> Bool {
        let flags = try syscallValue("fcntl(F_GETFD)", self.label) { clinux_fcntl_getfd(self.rawValue) }
        return flags & FD_CLOEXEC != 0
    }
}

/// How to open a file (the `O_*` flags of `open(2)`), for layers that do not import Glibc.
public struct OpenFlags: OptionSet, Hashable, Sendable {
    public let rawValue: CInt
    public init(rawValue: CInt) { self.rawValue = rawValue }

    /// `O_RDONLY` (the empty set).
    public static let readOnly: OpenFlags = []
    /// `O_WRONLY`
    public static let writeOnly = OpenFlags(rawValue: O_WRONLY)
    /// `O_RDWR`
    public static let readWrite = OpenFlags(rawValue: O_RDWR)
    /// `O_CREAT`
    public static let create = OpenFlags(rawValue: O_CREAT)
    /// `O_EXCL`: with `.create`, fail if the file exists.
    public static let exclusive = OpenFlags(rawValue: O_EXCL)
    /// `O_TRUNC`
    public static let truncate = OpenFlags(rawValue: O_TRUNC)
    /// `O_APPEND`
    public static let append = OpenFlags(rawValue: O_APPEND)
    /// `O_NONBLOCK`
    public static let nonblocking = OpenFlags(rawValue: O_NONBLOCK)
    /// `O_NOCTTY`: a terminal never becomes our controlling terminal.
    public static let noControllingTerminal = OpenFlags(rawValue: O_NOCTTY)
}

/// Both ends of a `pipe2(2)` made with `O_CLOEXEC`.
@frozen public struct Pipe: ~Copyable {
    /// Bytes written to `writeEnd` come out here.
    public var readEnd: FileDescriptor
    /// The end to write into.
    public var writeEnd: FileDescriptor

    /// `pipe2(O_CLOEXEC)`, plus `O_NONBLOCK` on both ends when asked.
    public init(nonblocking: Bool = false) throws(SysError) {
        var fds: (CInt, CInt) = (-1, -1)
        let flags = O_CLOEXEC | (nonblocking ? O_NONBLOCK : 0)
        _ = try withUnsafeMutableBytes(of: &fds) { (raw) throws(SysError) -> CInt in
            let ends = raw.baseAddress!.assumingMemoryBound(to: CInt.self)
            return try syscallValue("pipe2") { clinux_pipe2(ends, flags) }
        }
        self.readEnd = FileDescriptor(adopting: fds.0)
        self.writeEnd = FileDescriptor(adopting: fds.1)
    }
}
