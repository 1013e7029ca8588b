import Foundation
import Glibc

/// A TCP server on 127.0.0.1 (an ephemeral port) for integration tests, one thread per
/// connection. `echo` sends back what it gets; `blob` sends fixed bytes then closes (the
/// "peer closes with data unread" case); `sink` keeps what it gets.
final class LoopbackServer: @unchecked Sendable {
    enum Behaviour { case echo, blob([UInt8]), sink }

    let port: UInt16
    private let listener: Int32
    private let behaviour: Behaviour
    private let lock = NSLock()
    private var received: [Int: [UInt8]] = [:]
    private var connections = 0
    private var stopped = false

    init(_ behaviour: Behaviour) throws {
        self.behaviour = behaviour
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        self.port = UInt16(bigEndian: addr.sin_port)
        self.listener = fd
        let t = Thread { [self] in self.acceptLoop() }
        t.start()
    }

    /// Bytes each connection sent us, by accept order.
    func bytes(of connection: Int) -> [UInt8] {
        self.lock.lock(); defer { self.lock.unlock() }
        return self.received[connection] ?? []
    }

    var connectionCount: Int {
        self.lock.lock(); defer { self.lock.unlock() }
        return self.connections
    }

    func stop() {
        self.lock.lock()
        self.stopped = true
        self.lock.unlock()
        shutdown(self.listener, Int32(SHUT_RDWR))
        close(self.listener)
    }

    private func acceptLoop() {
        while true {
            let c = accept(self.listener, nil, nil)
            if c < 0 { return }
            self.lock.lock()
            let index = self.connections
            self.connections += 1
            self.lock.unlock()
            let t = Thread { [self] in self.serve(c, index) }
            t.start()
        }
    }

    private func serve(_ fd: Int32, _ index: Int) {
        defer { close(fd) }
        if case .blob(let data) = self.behaviour {
            var sent = 0
            while sent < data.count {
                let n = data[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return }
                sent += n
            }
            return
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            self.lock.lock()
            self.received[index, default: []].append(contentsOf: buffer[0..<n])
            self.lock.unlock()
            if case .echo = self.behaviour {
                var sent = 0
                while sent < n {
                    let m = buffer[sent..<n].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if m <= 0 { return }
                    sent += m
                }
            }
        }
    }
}

/// A UDP echo server on 127.0.0.1 (an ephemeral port), one thread.
final class UDPEchoServer: @unchecked Sendable {
    let port: UInt16
    private let fd: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let code = POSIXErrorCode(rawValue: errno) ?? .EIO
            close(fd)
            throw POSIXError(code)
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        self.port = UInt16(bigEndian: addr.sin_port)
        self.fd = fd
        Thread { [fd] in
            var buffer = [UInt8](repeating: 0, count: 65536)
            var peer = sockaddr_storage()
            while true {
                var peerLen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let n = buffer.withUnsafeMutableBytes { b in
                    withUnsafeMutablePointer(to: &peer) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, b.baseAddress, b.count, 0, $0, &peerLen) }
                    }
                }
                if n < 0 { return }
                _ = buffer.withUnsafeBytes { b in
                    withUnsafePointer(to: &peer) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, b.baseAddress, n, 0, $0, peerLen) }
                    }
                }
            }
        }.start()
    }

    func stop() {
        shutdown(self.fd, Int32(SHUT_RDWR))
        close(self.fd)
    }
}

/// A UDP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, closed):
/// for a modem service socket, whose local port must be given (EC §2.4.7).
func freeUDPPort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard ok else { throw POSIXError(.EADDRINUSE) }
    return UInt16(bigEndian: addr.sin_port)
}
