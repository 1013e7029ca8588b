import Buffers

/// The modem side of an AT serial line, without I/O.
///
/// It consumes the bytes the host writes (`receive`), network events (`handle`) and the
/// passing of time (`advance`), and produces the bytes the host reads (`takeOutput`) and the
/// socket operations the network side must carry out (`takeActions`). It never reads a clock.
public final class SimModem {
    public let profile: ModelProfile
    public private(set) var options: SimOptions

    // MARK: line state
    enum Mode {
        /// Powered but not yet ready: input is dropped until `RDY`.
        case booting(until: Instant)
        /// Reading command lines.
        case command
        /// A command line is being processed (latency or an asynchronous result).
        case busy
        /// Reading raw data after a `>` prompt.
        case dataEntry(DataEntry)
        /// A socket owns the line (transparent mode).
        case transparent(TransparentLink)
    }

    var mode: Mode = .command
    /// ATE: command echo, on at power-up as on every module (the host turns it off with ATE0).
    var echo = true
    /// AT+CMEE: 0 plain `ERROR`, 1 numeric `+CME ERROR: <n>`, 2 verbose (shown numeric here).
    var cmee = 0
    var lineBuffer: [UInt8] = []
    var lineOverflow = false
    /// Input that arrived while a command was busy; handled when it finishes.
    var deferredInput: [UInt8] = []
    var pendingLine: (line: [UInt8], due: Instant)?
    /// The socket last in transparent mode, for ATO.
    var lastTransparentLink: Int?
    var silentUntil: Instant?

    // MARK: output
    var output: [UInt8] = []
    var actions: [SocketAction] = []
    /// URCs waiting to be slipped in before the next final result code.
    var heldURCs: [[UInt8]] = []
    var heldDeadline: Instant?
    /// True while a command handler runs: its URCs belong after its final result.
    var executing = false
    /// URCs a command raised, written after its final result code.
    var afterFinal: [[UInt8]] = []
    var random: SeededRandom

    // MARK: 3GPP state shared by every dialect (AT+CGDCONT / AT+CGACT / AT+CFUN)
    /// PDP contexts defined with AT+CGDCONT (or AT+QICSGP): cid → (PDP type, APN).
    var pdpContexts: [Int: (type: String, apn: String)] = [1: ("IP", "")]
    /// Active contexts and their addresses.
    var activeContexts: [Int: String] = [:]
    /// AT+CFUN: 1 full, 0 minimum, 4 flight mode.
    var functionality = 1
    /// AT+CREG=n / CGREG=n / CEREG=n URC settings.
    var registrationReporting: [String: Int] = ["+CREG": 0, "+CGREG": 0, "+CEREG": 0]
    var baudRate = 115200
    /// AT+CCLK, set at power-up from `SimOptions.wallClock` and by NTP auto-set.
    var clock: ModemClock

    // MARK: network
    var sockets: [Int: SimSocket] = [:]
    /// The sockets by id: dictionary order differs between runs, and output must not.
    var orderedSockets: [SimSocket] { sockets.keys.sorted().compactMap { sockets[$0] } }
    private var nextSerial: UInt64 = 1
    private var nextQuery = 1
    /// False after a network-loss fault until `networkBack`.
    public private(set) var networkAvailable = true
    /// Set by the `sendBufferFull` fault: every send fails.
    var forcedSendFull = false
    /// Incoming clients the modem refused; their handles must be closed.
    var timers: [(due: Instant, seq: Int, fire: (SimModem, Instant) -> Void)] = []
    var timerSeq = 0

    let dialect: any Dialect

    /// Lines that are limited to this many bytes before `<CR>`; longer lines get `ERROR`.
    static let maxLineLength = 8192
    /// Above this many bytes of unread output (or of held URCs) the network is not read.
    static let outputLimit = 256 * 1024
    /// Bytes in `heldURCs`.
    var heldBytes: Int { heldURCs.reduce(0) { $0 + $1.count } }
    /// Held URCs are delivered at the latest this long after they were raised.
    static let urcHoldLimit: Duration = .milliseconds(300)

    /// A modem that has just finished booting: `RDY` and the boot URCs are in the output.
    public init(profile: ModelProfile, options: SimOptions = SimOptions(), now: Instant) {
        self.profile = profile
        self.options = options
        self.random = SeededRandom(seed: options.seed)
        self.clock = ModemClock(unixSeconds: options.wallClock, reference: now)
        switch profile.dialect {
        case .quectelCat1: self.dialect = QuectelCat1()
        case .quectelNB: self.dialect = QuectelNB()
        case .simcom7028: self.dialect = SIMCom7028()
        case .oneMOCat1: self.dialect = OneMO(nbIoT: false)
        case .oneMONB: self.dialect = OneMO(nbIoT: true)
        }
        finishBoot(now: now)
    }

    // MARK: - public interface

    /// Bytes the host wrote to the serial line.
    public func receive<Bytes: Collection<UInt8>>(_ bytes: Bytes, now: Instant) {
        advance(now: now)
        for byte in bytes { feed(byte, now: now) }
    }

    /// Fires timers due by `now`.
    public func advance(now: Instant) {
        currentTime = now
        var guardCount = 0
        while let first = timers.first, first.due <= now, guardCount < 10_000 {
            timers.removeFirst()
            first.fire(self, now)
            guardCount += 1
        }
        if case .dataEntry(let entry) = mode, let deadline = entry.deadline, deadline <= now {
            finishDataEntry(entry, .timedOut, now: now)
        }
        if let due = pendingLine?.due, due <= now, let line = pendingLine?.line {
            pendingLine = nil
            run(line, now: now)
        }
        if let until = silentUntil, until <= now {
            silentUntil = nil
        }
        if case .booting(let until) = mode, until <= now {
            finishBoot(now: now)
        }
        advanceTransparent(now: now)
        if let deadline = heldDeadline, deadline <= now, isIdle {
            flushHeldURCs()
        }
    }

    /// The earliest time `advance` has something to do, for the I/O loop's poll timeout.
    public var nextDeadline: Instant? {
        var candidates: [Instant] = []
        if let t = timers.first?.due { candidates.append(t) }
        if case .dataEntry(let entry) = mode, let d = entry.deadline { candidates.append(d) }
        if let d = pendingLine?.due { candidates.append(d) }
        if let d = silentUntil { candidates.append(d) }
        if case .booting(let until) = mode { candidates.append(until) }
        if let d = heldDeadline { candidates.append(d) }
        if let d = transparentDeadline { candidates.append(d) }
        return candidates.min()
    }

    /// Takes the bytes for the host.
    public func takeOutput() -> [UInt8] {
        defer { output.removeAll(keepingCapacity: true) }
        return output
    }

    /// Bytes waiting in `takeOutput`.
    public var pendingOutputCount: Int { output.count }

    /// Takes the socket operations for the network side.
    public func takeActions() -> [SocketAction] {
        defer { actions.removeAll(keepingCapacity: true) }
        return actions
    }

    /// How many bytes the network side may read for `handle` now: the free space of its
    /// receive buffer (0 for an unknown handle). Reading no more than this is what makes a
    /// full modem buffer push back on the real TCP peer.
    public func receiveWindow(for handle: SocketHandle) -> Int {
        guard let socket = socket(for: handle), socket.state == .connected || socket.state == .listening else { return 0 }
        // Pushed data waits in the output or among held URCs; do not take more from the
        // network than the line can carry (bounded memory whatever the host does).
        guard output.count < Self.outputLimit, heldBytes < Self.outputLimit else { return 0 }
        return dialect.receiveWindow(socket, modem: self)
    }

    /// A network event.
    public func handle(_ event: SocketEvent, now: Instant) {
        advance(now: now)
        switch event {
        case .connected(let h, let localPort):
            guard let s = socket(for: h), s.state == .opening else { return }
            s.localPort = localPort
            s.state = s.service == .tcpListener ? .listening : .connected
            dialect.opened(s, modem: self, now: now)
        case .failed(let h):
            guard let s = socket(for: h) else { return }
            dialect.openFailed(s, modem: self, now: now)
        case .received(let h, let bytes, let from):
            guard let s = socket(for: h), s.state == .connected || s.state == .listening else { return }
            guard s.receive.append(bytes, from: from) else { return }
            s.totalReceived += bytes.count
            dialect.dataArrived(s, modem: self, now: now)
        case .sent(let h, let count):
            guard let s = socket(for: h) else { return }
            let taken = min(max(0, count), s.unsent)
            s.unsent -= taken
            s.totalAcked += taken
            if taken > 0 { dialect.sendProgress(s, modem: self, now: now) }
        case .closed(let h):
            guard let s = socket(for: h), s.state != .remoteClosed else { return }
            let wasOpening = s.state == .opening
            if wasOpening { dialect.openFailed(s, modem: self, now: now); return }
            s.state = .remoteClosed
            perform(.close(h))
            dialect.peerClosed(s, modem: self, now: now)
        case .accepted(let listenerHandle, let client, let from, let localPort):
            guard let listener = socket(for: listenerHandle), listener.state == .listening,
                  let adopted = dialect.accepted(listener: listener, client: client, from: from,
                                                 localPort: localPort, modem: self, now: now)
            else {
                perform(.close(client))
                return
            }
            sockets[adopted.linkID] = adopted
        case .resolved, .pingReply, .pingTimeout, .timeSynced:
            dialect.queryEvent(event, modem: self, now: now)
        }
    }

    /// Injects a fault.
    public func inject(_ fault: Fault, now: Instant) {
        advance(now: now)
        switch fault {
        case .reboot:
            reboot(now: now)
        case .networkLoss:
            guard networkAvailable else { return }
            networkAvailable = false
            for s in orderedSockets { perform(.close(s.handle)) }
            dialect.networkLost(modem: self, now: now)
        case .networkBack:
            guard !networkAvailable else { return }
            networkAvailable = true
            dialect.networkBack(modem: self, now: now)
        case .remoteClose(let id):
            guard let s = sockets[id], s.state == .connected else { return }
            s.state = .remoteClosed
            perform(.close(s.handle))
            dialect.peerClosed(s, modem: self, now: now)
        case .sendBufferFull(let on):
            forcedSendFull = on
        case .garbage(let n):
            var junk: [UInt8] = []
            for _ in 0..<max(0, min(n, 65536)) { junk.append(UInt8(truncatingIfNeeded: random.next())) }
            output += junk
        case .silence(let d):
            silentUntil = now + d
            lineBuffer.removeAll()
        }
    }

    // MARK: - for dialects

    /// An information line of the running command: `<CR><LF>text<CR><LF>`.
    func respond(_ line: String) {
        output += Self.frame(line)
    }

    /// Raw bytes of the running command's response (payload after a `+QIRD:` header).
    func respondRaw(_ bytes: [UInt8]) {
        output += bytes
    }

    /// An unsolicited line (or a URC with payload bytes, already framed).
    ///
    /// Delivered at once when the line is idle, except that at `urcDelayRate` it is held and
    /// slipped in before the next final result; while a command runs it is always held.
    func urc(_ line: String) { urcBytes(Self.frame(line)) }

    func urcBytes(_ bytes: [UInt8]) {
        if executing {
            // Raised by the command itself (the +QIACTEX after its OK): after the final result.
            afterFinal.append(bytes)
            return
        }
        if !heldURCs.isEmpty || !isIdle || random.chance(options.urcDelayRate) {
            heldURCs.append(bytes)
            if heldDeadline == nil { heldDeadline = currentTime + Self.urcHoldLimit }
            return
        }
        output += bytes
    }

    /// Finishes a command that answered `.pending`.
    func complete(_ reply: CommandReply, now: Instant) {
        guard case .busy = mode else { return }
        conclude(reply, now: now)
    }

    /// Opens a new socket record and asks the network side for it.
    func makeSocket(linkID: Int, service: SimSocket.Service, remote: RemoteEndpoint?, localPort: Int,
                    accessMode: Int, contextID: Int) -> SimSocket {
        let handle = SocketHandle(linkID: linkID, serial: nextSerial)
        nextSerial += 1
        let s = SimSocket(linkID: linkID, handle: handle, service: service, remote: remote, localPort: localPort,
                          accessMode: accessMode, contextID: contextID, receiveCapacity: profile.receiveBufferSize)
        sockets[linkID] = s
        switch service {
        case .tcp: perform(.connectTCP(handle, to: remote ?? RemoteEndpoint(host: "0.0.0.0", port: 0), localPort: localPort))
        case .udp: perform(.openUDP(handle, to: remote, localPort: localPort))
        case .udpService: perform(.openUDP(handle, to: nil, localPort: localPort))
        case .tcpListener: perform(.listenTCP(handle, localPort: localPort))
        case .tcpIncoming: break
        }
        return s
    }

    /// A record for a client the network side accepted, under the handle it already has.
    func adoptSocket(linkID: Int, client: SocketHandle, from: RemoteEndpoint, localPort: Int,
                     accessMode: Int, contextID: Int, serverID: Int) -> SimSocket {
        let handle = SocketHandle(linkID: linkID, serial: client.serial)
        let s = SimSocket(linkID: linkID, handle: handle, service: .tcpIncoming, remote: from, localPort: localPort,
                          accessMode: accessMode, contextID: contextID, receiveCapacity: profile.receiveBufferSize)
        s.state = .connected
        s.serverID = serverID
        return s
    }

    /// A fresh serial for a handle the network side creates (accepted clients).
    public func allocateSerial() -> UInt64 {
        defer { nextSerial += 1 }
        return nextSerial
    }

    /// Closes a socket on the network side and forgets it.
    func release(_ socket: SimSocket) {
        if socket.state != .remoteClosed { perform(.close(socket.handle)) }
        if sockets[socket.linkID] === socket { sockets[socket.linkID] = nil }
    }

    /// Queues payload for the network. False when the send buffer cannot take it all — the
    /// manuals' `SEND FAIL` ("send buffer full", quectel.md §5.4.2) — or a fault forces that.
    func send(_ bytes: [UInt8], on socket: SimSocket, to: RemoteEndpoint? = nil) -> Bool {
        if forcedSendFull { return false }
        guard socket.unsent + bytes.count <= profile.sendBufferSize else { return false }
        socket.unsent += bytes.count
        socket.totalSent += bytes.count
        perform(.send(socket.handle, bytes, to: to))
        return true
    }

    func perform(_ action: SocketAction) { actions.append(action) }

    /// A new id for a resolve or ping query.
    func newQuery() -> Int {
        defer { nextQuery += 1 }
        return nextQuery
    }

    /// Runs `fire` at `due`.
    func schedule(at due: Instant, _ fire: @escaping (SimModem, Instant) -> Void) {
        timerSeq += 1
        timers.append((due, timerSeq, fire))
        timers.sort { ($0.due, $0.seq) < ($1.due, $1.seq) }
    }

    /// The time of the event being handled.
    var currentTime: Instant = .zero

    /// `<CR><LF>text<CR><LF>`.
    static func frame(_ line: String) -> [UInt8] { [0x0D, 0x0A] + Array(line.utf8) + [0x0D, 0x0A] }

    /// The line is idle: no command running, no data entry, not booting, not silent.
    var isIdle: Bool {
        guard silentUntil == nil else { return false }
        if case .command = mode { return true }
        return false
    }

    /// The error result for a parameter error in dialects that use CME codes.
    func cmeError(_ code: Int) -> CommandReply {
        cmee == 0 ? .error : .final("+CME ERROR: \(code)")
    }
}

/// Power-up and reboot (27.007 §8.2 CFUN=1,1; the manuals' RDY and boot URCs).
extension SimModem {
    private func reboot(now: Instant) {
        for s in orderedSockets where s.state != .remoteClosed { perform(.close(s.handle)) }
        sockets.removeAll()
        timers.removeAll()
        heldURCs.removeAll()
        heldDeadline = nil
        lineBuffer.removeAll()
        deferredInput.removeAll()
        pendingLine = nil
        afterFinal.removeAll()
        silentUntil = nil
        // Contexts do not survive a power cycle; their definitions (CGDCONT, QICSGP) do.
        activeContexts.removeAll()
        functionality = 1
        networkAvailable = true
        forcedSendFull = false
        mode = .booting(until: now + profile.bootDuration)
    }

    func finishBoot(now: Instant) {
        currentTime = now
        echo = true
        cmee = 0
        mode = .command
        dialect.powerOnReset()
        output += Self.frame("RDY")
        for line in dialect.bootURCs(modem: self) { output += Self.frame(line) }
    }

    func socket(for handle: SocketHandle) -> SimSocket? {
        guard let s = sockets[handle.linkID], s.handle.serial == handle.serial else { return nil }
        return s
    }
}
