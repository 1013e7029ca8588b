import CLinux
import Glibc

/// A listening Unix stream socket at a path: the daemon's control socket
/// (`tun2modem stats`, `flows`, `status` connect to it).
///
/// The socket file is removed when the listener goes away. A path written `@name` is in the
/// abstract namespace: no file, no directories, no permissions (any local process in the
/// network namespace may connect).
public struct UnixListener: ~Copyable {
    /// Register this for `.readable`: a connection is waiting.
    public let descriptor: FileDescriptor
    /// Where it listens.
    public let path: String

    /// Listens at `path`: creates missing parent directories (`mkdir(2)`, 0755), replaces a
    /// stale socket file that nobody accepts on, `socket(AF_UNIX, SOCK_STREAM|SOCK_NONBLOCK|
    /// SOCK_CLOEXEC)`, `bind(2)`, `chmod(2)` to `permissions` (0660: the owner and its group
    /// may connect), `listen(2)`.
    ///
    /// - Throws: `.failed(call: "bind", subject: path, errno: .addressInUse)` when another
    ///   process is listening there (a second daemon); `.refusedToReplace` when something
    ///   other than a socket has that name; `.nameTooLong` past 107 bytes.
    public init(path: String, permissions: UInt32 = 0o660, backlog: CInt = 16) throws(SysError) {
        let address = try UnixAddress(path)
        let abstract = path.hasPrefix("@")
        if !abstract {
            try Self.makeParentDirectories(of: path)
            try Self.removeStaleSocket(at: path)
        }
        let type = CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue)
        let socket = FileDescriptor(adopting: try syscallValue("socket(AF_UNIX)", path) { Glibc.socket(AF_UNIX, type, 0) })
        _ = try syscallValue("bind", path) { address.withSockaddr { Glibc.bind(socket.rawValue, $0, $1) } }
        do {
            if !abstract { _ = try syscallValue("chmod", path) { chmod(path, mode_t(permissions)) } }
            _ = try syscallValue("listen", path) { listen(socket.rawValue, backlog) }
        } catch {
            if !abstract { _ = unlink(path) }   // ours since bind: do not leave it behind
            throw error
        }
        self.descriptor = socket
        self.path = path
    }

    deinit {
        if !self.path.hasPrefix("@") { _ = unlink(self.path) }
    }

    /// `accept4(SOCK_NONBLOCK|SOCK_CLOEXEC)`: the next waiting connection, or `nil` when
    /// there is none. Answer it with `send` (not `write`): a client that hung up is then an
    /// error, not a `SIGPIPE`.
    public func accept() throws(SysError) -> FileDescriptor? {
        let flags = CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue)
        let result = try syscall("accept4", self.path) { clinux_accept4(self.descriptor.rawValue, flags) }
        switch result {
        case .processed(let fd): return FileDescriptor(adopting: fd)
        case .wouldBlock: return nil
        }
    }

    private static func makeParentDirectories(of path: String) throws(SysError) {
        var directory = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/").dropLast() {
            directory += "/" + component
            if mkdir(directory, 0o755) == -1 && Errno.current != .fileExists {
                throw .failed(call: "mkdir", subject: directory, errno: .current)
            }
        }
    }

    /// A socket file left by a crashed daemon refuses connections; one that accepts is a
    /// live daemon and stays.
    private static func removeStaleSocket(at path: String) throws(SysError) {
        var status = stat()
        guard lstat(path, &status) == 0 else { return }
        guard status.st_mode & S_IFMT == S_IFSOCK else { throw .refusedToReplace(path: path) }
        let live: Bool
        do {
            _ = try UnixStream.connect(path: path)
            live = true
        } catch {
            guard error.errno == .connectionRefused else { throw error }
            live = false
        }
        if live { throw .failed(call: "bind", subject: path, errno: .addressInUse) }
        _ = try syscallValue("unlink", path) { unlink(path) }
    }
}

/// The client side of a Unix stream socket.
public enum UnixStream {
    /// `socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC)` + `connect(2)` to `path` (an `@name`
    /// is abstract); `nonblocking` afterwards when asked.
    /// - Throws: `.failed(call: "connect", subject: path, errno: ...)`: `.noSuchFileOrDirectory`
    ///   when no daemon ever listened there, `.connectionRefused` for a stale socket file.
    public static func connect(path: String, nonblocking: Bool = false) throws(SysError) -> FileDescriptor {
        let address = try UnixAddress(path)
        let type = CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue)
        let socket = FileDescriptor(adopting: try syscallValue("socket(AF_UNIX)", path) { Glibc.socket(AF_UNIX, type, 0) })
        _ = try syscallValue("connect", path) { address.withSockaddr { Glibc.connect(socket.rawValue, $0, $1) } }
        if nonblocking { try socket.setNonblocking(true) }
        return socket
    }
}
