import Buffers
import Glibc

/// The network behind the emulated modem: real, non-blocking OS sockets, one per modem
/// socket, driven by the runner's poll loop. It carries out `SocketAction`s and reports
/// `SocketEvent`s to the modem.
final class RealNetwork {
    enum Kind { case connecting, stream, datagram, listener }

    final class Entry {
        let fd: Int32
        var handle: SocketHandle
        var kind: Kind
        /// Stream bytes the kernel has not taken yet.
        var pending: [UInt8] = []
        /// Datagrams the kernel has not taken yet.
        var pendingDatagrams: [([UInt8], SocketAddress?)] = []
        init(fd: Int32, handle: SocketHandle, kind: Kind) {
            self.fd = fd
            self.handle = handle
            self.kind = kind
        }
    }

    /// Keyed by `SocketHandle.serial`: accepted clients change their link id when adopted.
    private(set) var entries: [UInt64: Entry] = [:]
    let resolver: Resolver
    let pinger: Pinger
    let ntp: NTPClient
    /// Send buffer of each emulated TCP socket. A module's stack has small buffers; a small
    /// kernel buffer lets a stalled peer fill the modem's own buffer and cause `SEND FAIL`.
    static let kernelSendBuffer: Int32 = 16384
    /// Cap on one pending stream backlog (bytes the modem accepted that the kernel has not).
    static let maxPending = 1 << 20

    init(resolver: Resolver) {
        self.resolver = resolver
        self.pinger = Pinger(resolver: resolver)
        self.ntp = NTPClient(resolver: resolver)
    }

    // MARK: actions

    func perform(_ action: SocketAction, modem: SimModem, now: Instant) {
        switch action {
        case .connectTCP(let h, let to, let localPort):
            guard let address = resolver.resolve(to.host).first.flatMap({ SocketAddress(host: $0, port: to.port) }),
                  to.port > 0 else { modem.handle(.failed(h), now: now); return }
            guard let fd = open(address.family, SOCK_STREAM, localPort: localPort) else { modem.handle(.failed(h), now: now); return }
            var size = Self.kernelSendBuffer
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            let rc = address.withSockAddr { Glibc.connect(fd, $0, $1) }
            if rc == 0 {
                entries[h.serial] = Entry(fd: fd, handle: h, kind: .stream)
                modem.handle(.connected(h, localPort: SocketAddress.localPort(of: fd)), now: now)
            } else if errno == EINPROGRESS {
                entries[h.serial] = Entry(fd: fd, handle: h, kind: .connecting)
            } else {
                close(fd)
                modem.handle(.failed(h), now: now)
            }
        case .openUDP(let h, let to, let localPort):
            var family = AF_INET
            var peer: SocketAddress? = nil
            if let to {
                guard let a = resolver.resolve(to.host).first.flatMap({ SocketAddress(host: $0, port: to.port) }) else {
                    modem.handle(.failed(h), now: now)
                    return
                }
                peer = a
                family = a.family
            }
            guard let fd = open(family, SOCK_DGRAM, localPort: localPort) else { modem.handle(.failed(h), now: now); return }
            if let peer, peer.withSockAddr({ Glibc.connect(fd, $0, $1) }) != 0 {
                close(fd)
                modem.handle(.failed(h), now: now)
                return
            }
            entries[h.serial] = Entry(fd: fd, handle: h, kind: .datagram)
            modem.handle(.connected(h, localPort: SocketAddress.localPort(of: fd)), now: now)
        case .listenTCP(let h, let localPort):
            guard let fd = open(AF_INET, SOCK_STREAM, localPort: localPort), listen(fd, 8) == 0 else {
                modem.handle(.failed(h), now: now)
                return
            }
            entries[h.serial] = Entry(fd: fd, handle: h, kind: .listener)
            modem.handle(.connected(h, localPort: SocketAddress.localPort(of: fd)), now: now)
        case .send(let h, let bytes, let to):
            guard let e = entries[h.serial] else { return }
            if e.kind == .datagram {
                let address = to.flatMap { t in resolver.resolve(t.host).first.flatMap { SocketAddress(host: $0, port: t.port) } }
                e.pendingDatagrams.append((bytes, address))
            } else if e.pending.count < Self.maxPending {
                e.pending += bytes
            }
            flush(e, modem: modem, now: now)
        case .close(let h):
            guard let e = entries.removeValue(forKey: h.serial) else { return }
            close(e.fd)
        case .resolve(let q, let name):
            modem.handle(.resolved(query: q, addresses: resolver.resolve(name)), now: now)
        case .ping(let q, let host, let count, let timeout, let size):
            pinger.start(query: q, host: host, count: count, timeoutSeconds: timeout, size: size, modem: modem, now: now)
        case .timeSync(let q, let server, let port, let timeout):
            ntp.start(query: q, server: server, port: port, timeoutSeconds: timeout, modem: modem, now: now)
        }
    }

    private func open(_ family: Int32, _ type: __socket_type, localPort: Int) -> Int32? {
        let fd = socket(family, Int32(type.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if localPort != 0 {
            let any = family == AF_INET6 ? SocketAddress(host: "::", port: localPort) : SocketAddress(host: "0.0.0.0", port: localPort)
            guard let any, any.withSockAddr({ bind(fd, $0, $1) }) == 0 else {
                close(fd)
                return nil
            }
        }
        return fd
    }

    // MARK: polling

    /// The poll set: read interest only where the modem has buffer space and the host line
    /// is not backed up (`mayRead`), write interest where bytes wait for the kernel.
    func pollDescriptors(modem: SimModem, mayRead: Bool) -> [(pollfd, UInt64)] {
        var list: [(pollfd, UInt64)] = []
        // In open order: Swift's dictionary order changes from run to run, and events that
        // complete in the same poll must reach the modem in a repeatable order (--seed).
        for serial in entries.keys.sorted() {
            guard let e = entries[serial] else { continue }
            var events: Int16 = 0
            switch e.kind {
            case .connecting: events = Int16(POLLOUT)
            case .listener: events = Int16(POLLIN)
            case .stream, .datagram:
                if mayRead && modem.receiveWindow(for: e.handle) > 0 { events |= Int16(POLLIN) }
                if !e.pending.isEmpty || !e.pendingDatagrams.isEmpty { events |= Int16(POLLOUT) }
            }
            if events != 0 { list.append((pollfd(fd: e.fd, events: events, revents: 0), serial)) }
        }
        return list
    }

    func ready(serial: UInt64, revents: Int16, modem: SimModem, now: Instant) {
        guard let e = entries[serial] else { return }
        switch e.kind {
        case .connecting:
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(e.fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if error == 0 && revents & Int16(POLLOUT) != 0 && revents & Int16(POLLERR) == 0 {
                e.kind = .stream
                modem.handle(.connected(e.handle, localPort: SocketAddress.localPort(of: e.fd)), now: now)
            } else {
                entries[serial] = nil
                close(e.fd)
                modem.handle(.failed(e.handle), now: now)
            }
        case .listener:
            acceptClients(e, modem: modem, now: now)
        case .stream:
            if revents & Int16(POLLOUT) != 0 { flush(e, modem: modem, now: now) }
            if revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 { readStream(e, modem: modem, now: now) }
        case .datagram:
            if revents & Int16(POLLOUT) != 0 { flush(e, modem: modem, now: now) }
            if revents & Int16(POLLIN) != 0 { readDatagrams(e, modem: modem, now: now) }
        }
    }

    private func readStream(_ e: Entry, modem: SimModem, now: Instant) {
        let window = min(modem.receiveWindow(for: e.handle), 65536)
        // No room in the modem: leave the bytes in the kernel (TCP flow control does the rest).
        guard window > 0 else { return }
        var buffer = [UInt8](repeating: 0, count: window)
        let n = buffer.withUnsafeMutableBytes { recv(e.fd, $0.baseAddress, $0.count, 0) }
        if n > 0 {
            modem.handle(.received(e.handle, Array(buffer[0..<n]), from: peer(of: e.fd)), now: now)
        } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
            entries[e.handle.serial] = nil
            close(e.fd)
            modem.handle(.closed(e.handle), now: now)
        }
    }

    private func readDatagrams(_ e: Entry, modem: SimModem, now: Instant) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        for _ in 0..<16 {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = buffer.withUnsafeMutableBytes { b in
                withUnsafeMutablePointer(to: &storage) { p in
                    p.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(e.fd, b.baseAddress, b.count, 0, $0, &length) }
                }
            }
            guard n >= 0 else { return }
            let from = SocketAddress(storage: storage)?.endpoint ?? RemoteEndpoint(host: "0.0.0.0", port: 0)
            modem.handle(.received(e.handle, Array(buffer[0..<n]), from: from), now: now)
            guard entries[e.handle.serial] === e else { return }
        }
    }

    private func acceptClients(_ e: Entry, modem: SimModem, now: Instant) {
        for _ in 0..<8 {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &storage) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(e.fd, $0, &length) }
            }
            guard fd >= 0 else { return }
            Posix.setNonBlocking(fd)
            Posix.setCloseOnExec(fd)
            let client = SocketHandle(linkID: -1, serial: modem.allocateSerial())
            entries[client.serial] = Entry(fd: fd, handle: client, kind: .stream)
            let from = SocketAddress(storage: storage)?.endpoint ?? RemoteEndpoint(host: "0.0.0.0", port: 0)
            modem.handle(.accepted(listener: e.handle, client: client, from: from, localPort: SocketAddress.localPort(of: fd)), now: now)
            // The modem adopts the client under its new id (same serial) or closes it.
            if let adopted = modem.sockets.values.first(where: { $0.handle.serial == client.serial }) {
                entries[client.serial]?.handle = adopted.handle
            }
        }
    }

    private func flush(_ e: Entry, modem: SimModem, now: Instant) {
        if e.kind == .datagram {
            while let (bytes, to) = e.pendingDatagrams.first {
                let n: Int = bytes.withUnsafeBytes { b in
                    if let to { return to.withSockAddr { sendto(e.fd, b.baseAddress, b.count, Int32(MSG_NOSIGNAL), $0, $1) } }
                    return send(e.fd, b.baseAddress, b.count, Int32(MSG_NOSIGNAL))
                }
                if n < 0 && (errno == EAGAIN || errno == EINTR) { return }
                // A datagram the kernel refused (no route, too big) is lost, as on the air.
                e.pendingDatagrams.removeFirst()
                modem.handle(.sent(e.handle, count: bytes.count), now: now)
            }
            return
        }
        guard e.kind == .stream, !e.pending.isEmpty else { return }
        let n = e.pending.withUnsafeBytes { send(e.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if n > 0 {
            e.pending.removeFirst(n)
            modem.handle(.sent(e.handle, count: n), now: now)
        } else if n < 0 && errno != EAGAIN && errno != EINTR {
            entries[e.handle.serial] = nil
            close(e.fd)
            modem.handle(.closed(e.handle), now: now)
        }
    }

    private func peer(of fd: Int32) -> RemoteEndpoint {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        guard rc == 0, let a = SocketAddress(storage: storage) else { return RemoteEndpoint(host: "0.0.0.0", port: 0) }
        return a.endpoint
    }

    func closeAll() {
        for e in entries.values { close(e.fd) }
        entries.removeAll()
        pinger.closeAll()
        ntp.closeAll()
    }
}
