import AT
import Buffers
import Flows
import Modems
import Wire

/// The whole bridge without I/O: IP packets from the TUN, bytes from the serial line and
/// the time go in; packets for the app (to a `PacketSink`), `ATWrite`s for the serial line
/// (`nextWrite`), log lines and counters come out. The daemon's epoll loop is a thin shell
/// around it, and tests drive it with a scripted clock.
///
/// It owns the modem driver and everything that decides: the flow table with its TCP
/// endpoints, UDP sessions, DNS interception, ICMP echo, IPv4 fragment reassembly, the
/// socket scheduler (flows ↔ modem sockets under the model's limit, with an admission
/// queue) and the service ring (one send per busy flow in turn).
///
/// How a TCP connection goes: the app's SYN makes an endpoint that stays silent
/// (`awaitingModem`) while the scheduler grants a modem socket and the driver opens it;
/// `.opened` sends the SYN-ACK, a failed open sends RST ("Connection refused"). Bytes the
/// app sends are ACKed into the endpoint's buffer and leave it only when the modem answers
/// `.sendAccepted`. The modem's `.dataReady` is answered with a `read` no larger than the
/// endpoint's `roomForModemData`, so the modem is read only as fast as the app drains.
public final class BridgeCore {
    /// Where the modem is in its life, as the bridge sees it.
    public enum ModemPhase: Equatable, Sendable, CustomStringConvertible {
        /// Bring-up is running.
        case bringingUp
        /// The data connection is up: sockets can be opened.
        case up
        /// Down (failure, network loss, reboot): bring-up starts again at `retryAt`.
        case down(retryAt: Instant)
        /// The serial device is gone; the daemon reopens it and calls `serialRestored`.
        case serialLost
        /// `shutdown` was called: nothing new starts.
        case stopping

        public var description: String {
            switch self {
            case .bringingUp: "bringing up"
            case .up: "up"
            case .down: "down"
            case .serialLost: "serial lost"
            case .stopping: "stopping"
            }
        }
    }

    public private(set) var driver: any ModemDriver
    private let makeDriver: () -> any ModemDriver
    public let config: BridgeConfig
    private(set) var log: Log
    let sink: any PacketSink

    var table: FlowTable
    var scheduler: SocketScheduler<FlowRef>
    var ring = ServiceRing<FlowRef>()
    /// Modem sockets between the grant and `.closed`, by socket number.
    var slots = SocketSlots()
    var dns = DNSInterceptor()
    var icmp = ICMPEcho()
    var udp: UDPSessions
    /// Datagrams of each UDP session waiting for its modem socket's send (bounded).
    var udpQueues: [UDPSessionID: [[UInt8]]] = [:]
    /// The one socket UDP sessions share where the model allows (`udpSharedSocket`).
    var sharedDatagrams = SharedDatagramSocket()
    var reassembler = FragmentReassembler()
    /// Host names and ping targets whose driver request found the command queue full.
    var resolvesDue: [String] = []
    var pingsDue: [IPAddress] = []

    public internal(set) var counters = BridgeCounters()
    /// AT commands by name, with outcomes and latency, as the driver reports them.
    public internal(set) var atCommands = ATCommandStats()
    /// Unsolicited result codes by kind.
    public internal(set) var urcs = NamedCounters()
    public internal(set) var modemPhase: ModemPhase = .down(retryAt: Instant(nanoseconds: 0))
    /// The data connection of the last bring-up.
    public internal(set) var connection: DataConnection?
    var bringUpFailuresInARow = 0
    var reconcileAt: Instant?
    /// After bring-up the first reconcile closes the sockets left by a previous run; no
    /// socket is opened until its answer, so no flow is given a socket still in use.
    var leftoverCheckPending = false
    /// A modem that never answers the reconcile query must not block every open.
    var leftoverCheckDeadline: Instant?
    /// Scratch for the IP and transport headers written in front of a payload span.
    var headerScratch = [UInt8](repeating: 0, count: 256)
    /// Set when a turn changed something the next round of `settle` must look at.
    var anotherRound = false

    static let maxQueuedDatagramsPerSession = 32

    /// - Parameters:
    ///   - makeDriver: makes a fresh driver: at start and after the serial device came back.
    ///   - sink: where packets for the app go.
    public init(config: BridgeConfig, log: Log, sink: any PacketSink, now: Instant,
                makeDriver: @escaping () -> any ModemDriver) {
        self.config = config
        self.log = log
        self.sink = sink
        self.makeDriver = makeDriver
        self.driver = makeDriver()
        var tcp = TCPConfig()
        // The IPv4 header and a TCP header without options take 40 bytes of the MTU.
        tcp.maxSegmentSize = max(536, config.mtu - 40)
        self.table = FlowTable(maxFlows: config.maxFlows, tcpConfig: tcp,
                               budget: TCPBufferBudget(limit: config.tcpBufferBudget))
        self.scheduler = SocketScheduler(socketCount: self.driver.capabilities.socketCount,
                                         queueLimit: config.admissionQueueLimit,
                                         queueTimeout: config.admissionTimeout)
        // A session per (app endpoint, remote endpoint): on its own modem socket, or on the
        // shared one where the model's datagram service names peers both ways.
        let caps = self.driver.capabilities
        self.udp = UDPSessions(config: UDPSessions.Config(
            mapping: .addressAndPortDependent, maximumSessions: max(1, config.maxFlows / 4),
            maximumPayloadLength: min(1400, caps.maxSend)))
        self.modemPhase = .down(retryAt: now)
    }

    // MARK: Inputs

    /// Starts bring-up (the daemon calls it once the serial port is open).
    public func start(now: Instant) {
        self.startBringUp(now: now)
        self.settle(now: now)
    }

    /// One IP packet read from the TUN. `bytes` may be reused once this returns: whatever
    /// must outlive the call (TCP payload) is taken into the flow's buffer.
    public func receivePacket(_ bytes: UnsafeRawBufferPointer, now: Instant) {
        self.counters.packetsFromApp += 1
        self.counters.bytesFromApp += bytes.count
        self.handlePacket(bytes, now: now)
    }

    /// Several packets read in one turn: processed together, so a burst of ACKs from the
    /// app is answered by one dispatch.
    public func receivePackets(_ packets: [UnsafeRawBufferPointer], now: Instant) {
        for p in packets {
            self.counters.packetsFromApp += 1
            self.counters.bytesFromApp += p.count
            self.handlePacket(p, now: now, settling: false)
        }
        self.settle(now: now)
    }

    /// Bytes read from the serial line.
    public func receiveSerial(_ bytes: UnsafeRawBufferPointer, now: Instant) {
        self.driver.received(bytes, now: now)
        self.settle(now: now)
    }

    /// Timers: call no later than `nextDeadline`.
    public func tick(now: Instant) {
        self.driver.tick(now: now)
        self.runTimers(now: now)
        self.settle(now: now)
    }

    /// Applies a new log threshold (SIGHUP reload).
    public func setLogThreshold(_ level: Log.Level) { self.log.threshold = level }

    /// The next write for the serial line (from the driver), if any.
    public func nextWrite() -> ATWrite? { self.driver.nextWrite() }

    /// When `tick` must be called next.
    public func nextDeadline(now: Instant) -> Instant? {
        var earliest = Earliest()
        earliest.consider(self.driver.nextDeadline)
        earliest.consider(self.scheduler.nextDeadline)
        earliest.consider(self.dns.nextDeadline)
        earliest.consider(self.icmp.nextDeadline)
        earliest.consider(self.udp.nextDeadline)
        earliest.consider(self.reassembler.nextDeadline)
        earliest.consider(self.reconcileAt)
        earliest.consider(self.sharedDatagramDeadline)
        if self.leftoverCheckPending { earliest.consider(self.leftoverCheckDeadline) }
        if case .down(let at) = self.modemPhase { earliest.consider(at) }
        switch self.table.pollAt() {
        case .now: return now
        case .at(let t): earliest.consider(t)
        case .never: break
        }
        for slot in self.slots.values {
            earliest.consider(slot.sendRetryAt)
            earliest.consider(slot.lingerUntil)
            earliest.consider(slot.probeAt)
        }
        return earliest.instant
    }

    /// The serial device went away (read error, hang-up): every flow on the modem is reset;
    /// the driver's state is void.
    public func serialLost(now: Instant) {
        guard self.modemPhase != .serialLost else { return }
        self.counters.serialLosses += 1
        self.log.warning("modem", "serial device lost; resetting \(self.slots.count) flow(s) and reopening it")
        self.resetModemFlows(reason: "serial device lost", now: now)
        self.modemPhase = .serialLost
        self.settle(now: now)
    }

    /// The serial device is open again: a fresh driver brings the modem up.
    public func serialRestored(now: Instant) {
        self.driver = self.makeDriver()
        self.log.notice("modem", "serial device reopened")
        self.startBringUp(now: now)
        self.settle(now: now)
    }

    /// Graceful stop: every TCP flow gets RST, every modem socket is closed. The daemon then
    /// flushes `nextWrite` for a moment and exits.
    public func shutdown(now: Instant) {
        self.modemPhase = .stopping
        for key in Array(self.table.keys) where key.proto == .tcp {
            _ = self.table.withTCP(key) { $0.close(now: now) }
            self.dispatch(key, now: now)
        }
        for (socket, var slot) in self.slots.sorted(by: { $0.key < $1.key }) {
            slot.flow = nil
            if slot.phase == .open || slot.phase == .opening {
                try? self.driver.close(ModemSocketID(socket), now: now)
                slot.phase = .closing
            }
            self.slots[socket] = slot
        }
        self.closeSharedDatagramSocket(now: now)
        _ = self.table.sweep(now: now)
    }

    // MARK: What the stats and tests read

    public var flowCount: Int { self.table.count }
    public var socketsInUse: Int { self.socketsHeld.count }
    public var admissionQueueLength: Int { self.scheduler.queueLength }
    public var flowCounters: FlowTableCounters { self.table.counters }
    public func flowSummaries(now: Instant) -> [FlowSummary] { self.table.snapshot(now: now) }
    /// Every flow as the stats socket lists it: the flow table's (TCP, ICMP) and the UDP
    /// sessions, with the modem socket each rides (the shared UDP socket included), oldest
    /// first.
    public func flowRows(now: Instant) -> [FlowRow] {
        var rows = self.table.snapshot(now: now).map { FlowRow($0, now: now) }
        for session in self.udp.all {
            let socket = self.sharedDatagrams.carries(session.id) ? self.sharedDatagrams.socket
                : self.scheduler.socket(of: .udp(session.id))
            rows.append(FlowRow(session, modemSocket: socket))
        }
        return FlowRow.inListOrder(rows)
    }
    public var socketLimit: Int { self.scheduler.socketCount }
    /// Modem sockets held now (open, opening or closing), by number.
    public var socketsHeld: [Int] {
        var held = Array(self.slots.keys)
        if let shared = self.sharedDatagrams.socket, self.sharedDatagrams.slot.phase != .granted { held.append(shared) }
        return held.sorted()
    }
    /// UDP sessions riding the shared UDP socket now.
    public var sharedUDPSessions: Int { self.sharedDatagrams.count }
    public var udpDrops: UDPSessions.Drops { self.udp.drops }
    public var dnsCounters: DNSInterceptor.Counters { self.dns.counters }
    public var echoCounters: ICMPEcho.Counters { self.icmp.counters }
    public var fragmentDrops: DropCounter { self.reassembler.drops }

    // MARK: The turn

    /// After every input: modem events, then requests to the driver, then segments to the
    /// app, then the flows that ended.
    func settle(now: Instant) {
        // A sweep can free sockets (new grants to open) and a pump can make segments due;
        // a few rounds reach the fixed point, bounded so a bug cannot spin the loop.
        for _ in 0..<4 {
            self.anotherRound = false
            self.drainModemEvents(now: now)
            if self.scheduler.queueLength > 0 { self.endLingers(now: now, all: true) }
            self.pump(now: now)
            self.dispatchDue(now: now)
            self.sweep(now: now)
            if !self.anotherRound { break }
        }
    }

    func runTimers(now: Instant) {
        if case .down(let at) = self.modemPhase, now >= at { self.startBringUp(now: now) }
        if self.leftoverCheckPending, let at = self.leftoverCheckDeadline, now >= at {
            self.leftoverCheckPending = false
            self.log.warning("modem", "no answer about leftover sockets; opening sockets anyway")
        }
        if let at = self.reconcileAt, now >= at, self.modemPhase == .up {
            self.reconcileAt = now + self.config.reconcileInterval
            do { try self.driver.reconcile(now: now) } catch { self.counters.driverBusy += 1 }
        }
        for flow in self.scheduler.expire(now: now) {
            self.counters.admissionTimeouts += 1
            self.log.info("flows", "\(flow): no modem socket within \(self.config.admissionTimeout); reset")
            self.refuse(flow, now: now)
        }
        for action in self.dns.expire(now: now) { self.perform(action, now: now) }
        self.icmp.expire(now: now)
        for action in self.udp.expire(now: now) { self.perform(action, now: now) }
        self.reassembler.expire(now: now)
        self.endLingers(now: now, all: false)
        for socket in self.slots.indices {
            guard var slot = self.slots[socket] else { continue }
            if let t = slot.sendRetryAt, now >= t {
                slot.sendRetryAt = nil
                if let flow = slot.flow { self.ring.markReady(flow) }
            }
            self.probeIfIdle(&slot, now: now)
            self.slots[socket] = slot
        }
    }

    /// Closes the modem sockets of flows the app has half-closed once their linger is over,
    /// or at once (`all`) when other flows wait for a socket: a scarce socket is worth more
    /// to a waiting connection than to a possible late answer.
    func endLingers(now: Instant, all: Bool) {
        for socket in self.slots.indices {
            guard var slot = self.slots[socket], let t = slot.lingerUntil, all || now >= t else { continue }
            slot.lingerUntil = nil
            slot.wantsClose = true
            if case .tcp(let key)? = slot.flow {
                _ = self.table.withTCP(key) { $0.modemClosed(now: now) }
            }
            self.slots[socket] = slot
        }
    }

    // MARK: Packets from the app

    func handlePacket(_ bytes: UnsafeRawBufferPointer, now: Instant, settling: Bool = true) {
        let packet: IPPacket
        do {
            packet = try IPPacket(validating: bytes)
        } catch {
            self.counters.malformedPackets += 1
            self.log.debug("tun", "dropped a malformed packet (\(error))")
            return
        }
        if packet.isFragment {
            let outcome: FragmentReassembler.Outcome
            switch packet {
            case .v4(let p): outcome = self.reassembler.add(p, now: now)
            case .v6(let p): outcome = self.reassembler.add(p, now: now)
            }
            if case .reassembled(let whole) = outcome {
                whole.withUnsafeBytes { raw in
                    if let again = try? IPPacket(validating: raw), !again.isFragment {
                        self.route(again, now: now)
                    } else {
                        self.counters.malformedPackets += 1
                    }
                }
            }
        } else {
            self.route(packet, now: now)
        }
        if settling { self.settle(now: now) }
    }

    func route(_ packet: IPPacket, now: Instant) {
        switch packet.protocol {
        case .tcp:
            self.receiveTCP(packet, now: now)
        case .udp:
            if Self.destinationPort(packet) == 53 {
                self.counters.dnsQueries += 1
                for action in self.dns.receive(packet, now: now) { self.perform(action, now: now) }
            } else {
                for action in self.udp.receive(packet, now: now) { self.perform(action, now: now, packet: packet) }
            }
        case .icmp, .icmpv6:
            for action in self.icmp.receive(packet, now: now) { self.perform(action, now: now) }
        default:
            self.counters.unsupportedPackets += 1
        }
    }

    static func destinationPort(_ packet: IPPacket) -> UInt16? {
        let p = packet.payload
        guard p.count >= 4 else { return nil }
        return UInt16(p[2]) << 8 | UInt16(p[3])
    }

    // MARK: Output to the app

    /// Writes an IP packet from `source` to `destination` around a TCP segment whose
    /// payload lies in one or two spans. Two spans (a wrapped buffer) are joined first,
    /// because the checksum routine takes one.
    func emitTCP(_ segment: TCPRepr, from source: IPAddress, to destination: IPAddress,
                 _ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) -> Bool {
        if !second.isEmpty {
            var joined = [UInt8]()
            joined.reserveCapacity(first.count + second.count)
            joined.append(contentsOf: first)
            joined.append(contentsOf: second)
            return joined.withUnsafeBytes { whole in
                self.emitTCP(segment, from: source, to: destination, whole, UnsafeRawBufferPointer(start: nil, count: 0))
            }
        }
        let ip = IPRepr(source: source, destination: destination, protocol: .tcp, payloadLength: segment.bufferLength)
        let headerLength = ip.headerLength + segment.headerLength
        guard headerLength <= self.headerScratch.count else { return false }
        let written = self.headerScratch.withUnsafeMutableBytes { buffer -> Bool in
            ip.emit(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<ip.headerLength]))
            segment.emit(into: UnsafeMutableRawBufferPointer(rebasing: buffer[ip.headerLength..<headerLength]),
                         source: source, destination: destination, payload: first)
            let header = UnsafeRawBufferPointer(rebasing: buffer[0..<headerLength])
            return self.sink.writePacket(first.isEmpty ? [header] : [header, first])
        }
        self.countToApp(written, bytes: headerLength + first.count)
        return written
    }

    func writeToApp(_ packet: [UInt8]) {
        let written = packet.withUnsafeBytes { self.sink.writePacket([$0]) }
        self.countToApp(written, bytes: packet.count)
    }

    func countToApp(_ written: Bool, bytes: Int) {
        if written {
            self.counters.packetsToApp += 1
            self.counters.bytesToApp += bytes
        } else {
            self.counters.packetsToAppDropped += 1
        }
    }
}
