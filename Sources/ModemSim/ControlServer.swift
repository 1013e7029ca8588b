import Glibc

/// `--control PATH`: a Unix stream socket that takes one fault per line (`reboot`,
/// `netloss`, `netback`, `remote-close ID`, `sendfull on|off`, `garbage N`,
/// `silence SECONDS`) and answers each with `ok` or `error: ...`.
final class ControlServer {
    let path: String
    let listener: Int32
    private var clients: [Int32: [UInt8]] = [:]
    static let maxLine = 256
    static let maxClients = 8

    init(path: String) throws(SystemError) {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError(call: "socket", errno: errno) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw SystemError(call: "bind \(path)", errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { dst in
            for (i, b) in bytes.enumerated() { dst[i] = b }
        }
        let rc = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0, listen(fd, 4) == 0 else {
            let e = errno
            close(fd)
            throw SystemError(call: "bind \(path)", errno: e)
        }
        self.path = path
        self.listener = fd
    }

    var descriptors: [Int32] { [listener] + clients.keys }

    /// Handles readiness of `fd`; returns the faults received.
    func ready(_ fd: Int32) -> [Fault] {
        if fd == listener {
            let c = accept(listener, nil, nil)
            if c >= 0 {
                if clients.count >= Self.maxClients { close(c) } else {
                    Posix.setNonBlocking(c)
                    clients[c] = []
                }
            }
            return []
        }
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 {
            if n == 0 || (errno != EAGAIN && errno != EINTR) { drop(fd) }
            return []
        }
        var pending = (clients[fd] ?? []) + buffer[0..<n]
        var faults: [Fault] = []
        while let newline = pending.firstIndex(of: 0x0A) {
            var line = Array(pending[..<newline])
            pending.removeFirst(newline + 1)
            if line.last == 0x0D { line.removeLast() }
            let text = String(decoding: line, as: UTF8.self).trimmingSpaces
            if text.isEmpty { continue }
            switch ControlCommand.parse(text) {
            case .success(let fault):
                faults.append(fault)
                Posix.writeAll(fd, "ok\n")
            case .failure(let error):
                Posix.writeAll(fd, "error: \(error)\n")
            }
        }
        if pending.count > Self.maxLine {
            Posix.writeAll(fd, "error: line too long\n")
            drop(fd)
            return faults
        }
        clients[fd] = pending
        return faults
    }

    private func drop(_ fd: Int32) {
        close(fd)
        clients[fd] = nil
    }

    func shutdown() {
        for fd in clients.keys { close(fd) }
        clients.removeAll()
        close(listener)
        unlink(path)
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
