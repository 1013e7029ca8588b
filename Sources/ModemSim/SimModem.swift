import Buffers

/// Settings of one emulated modem that are not the model's own.
public struct SimOptions: Sendable {
    /// Seeds every random choice (URC timing, garbage bytes), so runs repeat.
    public var seed: UInt64 = 1
    /// Probability that a URC is held back and delivered between the next command's
    /// response lines and its final result code, as happens on real modems when a URC is
    /// raised while a command runs. 0 disables.
    public var urcDelayRate: Double = 0.05
    /// Processing time added to every command line.
    public var latency: Duration = .zero
    /// `AT+CGSN`.
    public var imei: String = "866123045678912"
    /// `AT+CIMI`.
    public var imsi: String = "460001234567890"
    /// The address the network gives the modem.
    public var localAddress: String = "10.7.157.1"
    /// The IPv6 address shown for IPv6 / IPv4v6 contexts.
    public var localIPv6Address: String = "240E:459:40D:A39::1"

    public init() {}
}

/// The outcome of one command handler.
enum CommandReply {
    /// A final result code, then lines that the manual shows after it (BC `OK` + `SEND OK`).
    case final(String, then: [String] = [])
    /// The prompt has been written; bytes now go to data entry.
    case dataEntry(DataEntry)
    /// The result comes later: the dialect calls `SimModem.complete` (e.g. waiting for a
    /// connect before `CONNECT`).
    case pending
    /// The dialect does not know this command.
    case unknown

    static var ok: CommandReply { .final("OK") }
    static var error: CommandReply { .final("ERROR") }
}

/// Raw data typed after a `>` prompt.
struct DataEntry {
    enum Length {
        /// Exactly this many bytes; no terminator (quectel.md §5.4.1).
        case fixed(Int)
        /// Until Ctrl+Z (0x1A) sends or ESC (0x1B) cancels; more than `max` bytes is an error.
        case untilCtrlZ(max: Int)
    }

    enum Outcome {
        case data([UInt8])
        /// ESC in variable-length mode.
        case cancelled
        /// No complete input before the deadline.
        case timedOut
        /// More than the allowed bytes before Ctrl+Z.
        case overflow
    }

    var length: Length
    var echo: Bool
    var deadline: Instant?
    var buffer: [UInt8] = []
    /// Dialect transform of each input byte (SIMCom `<ETX>` escaping); nil = take verbatim.
    var escapeByte: UInt8? = nil
    var escaping = false
    var completion: (SimModem, Outcome, Instant) -> CommandReply

    init(length: Length, echo: Bool, deadline: Instant?, escapeByte: UInt8? = nil,
         completion: @escaping (SimModem, Outcome, Instant) -> CommandReply) {
        self.length = length
        self.echo = echo
        self.deadline = deadline
        self.escapeByte = escapeByte
        self.completion = completion
    }
}

/// A fault that tests inject, from `--fault`, the control socket, or directly.
public enum Fault: Equatable, Sendable {
    /// Power-cycle: every socket lost, then `RDY` and the boot URCs.
    case reboot
    /// The network drops the data connection.
    case networkLoss
    /// The network comes back (contexts can be activated again).
    case networkBack
    /// The peer closes socket `linkID`.
    case remoteClose(linkID: Int)
    /// Every send fails as if the send buffer were full, while on.
    case sendBufferFull(Bool)
    /// This many random bytes appear on the line.
    case garbage(Int)
    /// The modem stops answering for this long.
    case silence(Duration)
}

/// A dialect: the command handlers and URC formats of one family of manuals.
protocol Dialect: AnyObject {
    /// Handles one parsed command line.
    func execute(_ command: ATCommand, modem: SimModem, now: Instant) -> CommandReply
    /// The network side finished opening `socket` (state already `.connected`/`.listening`).
    func opened(_ socket: SimSocket, modem: SimModem, now: Instant)
    /// The open of `socket` failed; the dialect reports it and frees what it must.
    func openFailed(_ socket: SimSocket, modem: SimModem, now: Instant)
    /// Data was appended to `socket.receive`.
    func dataArrived(_ socket: SimSocket, modem: SimModem, now: Instant)
    /// The peer closed `socket` (state already `.remoteClosed`).
    func peerClosed(_ socket: SimSocket, modem: SimModem, now: Instant)
    /// A listener accepted a client; return the new socket or nil to refuse it.
    func accepted(listener: SimSocket, client: SocketHandle, from: RemoteEndpoint, localPort: Int,
                  modem: SimModem, now: Instant) -> SimSocket?
    /// A name-resolution or ping event for a query this dialect started.
    func queryEvent(_ event: SocketEvent, modem: SimModem, now: Instant)
    /// The network dropped the data connection: every socket is already closed on the network side.
    func networkLost(modem: SimModem, now: Instant)
    /// The network is back.
    func networkBack(modem: SimModem, now: Instant)
    /// The kernel took more of `socket`'s unsent bytes (`totalAcked` grew).
    func sendProgress(_ socket: SimSocket, modem: SimModem, now: Instant)
    /// How many bytes the network may hand `socket` now (default: its free buffer space).
    func receiveWindow(_ socket: SimSocket, modem: SimModem) -> Int
    /// Lines the model prints after `RDY` when it boots.
    func bootURCs(modem: SimModem) -> [String]
    /// Back to power-up settings (after a reboot).
    func powerOnReset()
}

extension Dialect {
    func receiveWindow(_ socket: SimSocket, modem: SimModem) -> Int { socket.receive.freeSpace }
    func networkBack(modem: SimModem, now: Instant) {}
    func sendProgress(_ socket: SimSocket, modem: SimModem, now: Instant) {}
}

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
    var silentUntil: Instant?

    // MARK: output
    private var output: [UInt8] = []
    private var actions: [SocketAction] = []
    /// URCs waiting to be slipped in before the next final result code.
    private var heldURCs: [[UInt8]] = []
    private var heldDeadline: Instant?
    /// True while a command handler runs: its URCs belong after its final result.
    private var executing = false
    /// URCs a command raised, written after its final result code.
    private var afterFinal: [[UInt8]] = []
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

    // MARK: network
    var sockets: [Int: SimSocket] = [:]
    private var nextSerial: UInt64 = 1
    private var nextQuery = 1
    /// False after a network-loss fault until `networkBack`.
    public private(set) var networkAvailable = true
    /// Set by the `sendBufferFull` fault: every send fails.
    var forcedSendFull = false
    /// Incoming clients the modem refused; their handles must be closed.
    private var timers: [(due: Instant, seq: Int, fire: (SimModem, Instant) -> Void)] = []
    private var timerSeq = 0

    let dialect: any Dialect

    /// Lines that are limited to this many bytes before `<CR>`; longer lines get `ERROR`.
    static let maxLineLength = 8192
    /// Held URCs are delivered at the latest this long after they were raised.
    static let urcHoldLimit: Duration = .milliseconds(300)

    /// A modem that has just finished booting: `RDY` and the boot URCs are in the output.
    public init(profile: ModelProfile, options: SimOptions = SimOptions(), now: Instant) {
        self.profile = profile
        self.options = options
        self.random = SeededRandom(seed: options.seed)
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
        case .resolved, .pingReply, .pingTimeout:
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
            for s in sockets.values { perform(.close(s.handle)) }
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
        s.openReportPending = false
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
    private(set) var currentTime: Instant = .zero

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

    // MARK: - internals

    private func feed(_ byte: UInt8, now: Instant) {
        currentTime = now
        if silentUntil != nil { return }
        switch mode {
        case .booting:
            return
        case .busy:
            if deferredInput.count < Self.maxLineLength { deferredInput.append(byte) }
        case .dataEntry(var entry):
            feedData(byte, entry: &entry, now: now)
        case .command:
            if echo { output.append(byte) }
            switch byte {
            case 0x0D:
                let line = lineBuffer
                let overflow = lineOverflow
                lineBuffer.removeAll(keepingCapacity: true)
                lineOverflow = false
                if overflow { conclude(.error, now: now); return }
                if options.latency > .zero {
                    mode = .busy
                    pendingLine = (line, now + options.latency)
                } else {
                    run(line, now: now)
                }
            case 0x0A where lineBuffer.isEmpty:
                return
            case 0x08:
                if !lineBuffer.isEmpty { lineBuffer.removeLast() }
            default:
                if lineBuffer.count < Self.maxLineLength { lineBuffer.append(byte) } else { lineOverflow = true }
            }
        }
    }

    private func feedData(_ byte: UInt8, entry: inout DataEntry, now: Instant) {
        if entry.echo { output.append(byte) }
        if let esc = entry.escapeByte {
            if entry.escaping {
                entry.escaping = false
                entry.buffer.append(byte)
                return finishIfComplete(entry, now: now)
            }
            if byte == esc, case .untilCtrlZ = entry.length {
                entry.escaping = true
                mode = .dataEntry(entry)
                return
            }
        }
        switch entry.length {
        case .fixed:
            entry.buffer.append(byte)
        case .untilCtrlZ(let max):
            if byte == 0x1A { return finishDataEntry(entry, .data(entry.buffer), now: now) }
            if byte == 0x1B { return finishDataEntry(entry, .cancelled, now: now) }
            if entry.buffer.count >= max { return finishDataEntry(entry, .overflow, now: now) }
            entry.buffer.append(byte)
        }
        finishIfComplete(entry, now: now)
    }

    private func finishIfComplete(_ entry: DataEntry, now: Instant) {
        if case .fixed(let n) = entry.length, entry.buffer.count >= n {
            return finishDataEntry(entry, .data(entry.buffer), now: now)
        }
        mode = .dataEntry(entry)
    }

    private func finishDataEntry(_ entry: DataEntry, _ outcome: DataEntry.Outcome, now: Instant) {
        mode = .busy
        executing = true
        let reply = entry.completion(self, outcome, now)
        executing = false
        conclude(reply, now: now)
    }

    private func run(_ line: [UInt8], now: Instant) {
        currentTime = now
        mode = .busy
        let command: ATCommand
        do {
            if line.contains(UInt8(ascii: ";")) && !Self.semicolonOnlyInQuotes(line) {
                conclude(.error, now: now)
                return
            }
            command = try ATCommand.parse(line)
        } catch .notACommand {
            // Modems ignore lines that do not start with AT (line noise, a stray CR/LF).
            mode = .command
            resumeDeferred(now: now)
            return
        } catch {
            conclude(.error, now: now)
            return
        }
        executing = true
        var reply = dialect.execute(command, modem: self, now: now)
        if case .unknown = reply { reply = standardCommand(command, now: now) }
        executing = false
        if case .unknown = reply { reply = .error }
        conclude(reply, now: now)
    }

    private static func semicolonOnlyInQuotes(_ line: [UInt8]) -> Bool {
        var inQuotes = false
        for b in line {
            if b == UInt8(ascii: "\"") { inQuotes.toggle() } else if b == UInt8(ascii: ";") && !inQuotes { return false }
        }
        return true
    }

    private func conclude(_ reply: CommandReply, now: Instant) {
        switch reply {
        case .final(let code, let then):
            flushHeldURCs()
            output += Self.frame(code)
            for line in then { output += Self.frame(line) }
            for u in afterFinal { output += u }
            afterFinal.removeAll()
            mode = .command
            resumeDeferred(now: now)
        case .unknown:
            conclude(.error, now: now)
        case .dataEntry(let entry):
            mode = .dataEntry(entry)
            if !deferredInput.isEmpty { resumeDeferred(now: now) }
        case .pending:
            mode = .busy
        }
    }

    private func resumeDeferred(now: Instant) {
        guard !deferredInput.isEmpty else { return }
        let bytes = deferredInput
        deferredInput = []
        for b in bytes { feed(b, now: now) }
    }

    private func flushHeldURCs() {
        for u in heldURCs { output += u }
        heldURCs.removeAll()
        heldDeadline = nil
    }

    private func reboot(now: Instant) {
        for s in sockets.values where s.state != .remoteClosed { perform(.close(s.handle)) }
        sockets.removeAll()
        timers.removeAll()
        heldURCs.removeAll()
        heldDeadline = nil
        lineBuffer.removeAll()
        deferredInput.removeAll()
        pendingLine = nil
        networkAvailable = true
        forcedSendFull = false
        mode = .booting(until: now + profile.bootDuration)
    }

    private func finishBoot(now: Instant) {
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
