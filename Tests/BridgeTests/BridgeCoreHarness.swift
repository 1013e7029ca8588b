import Buffers
import Testing
import Wire
@testable import Bridge
@testable import Flows
@testable import Modems

/// Collects what the bridge writes to the app, one joined packet per write.
final class PacketCollector: PacketSink {
    var packets: [[UInt8]] = []
    /// Refuse writes while set (a full TUN queue).
    var refusing = false

    func writePacket(_ pieces: [UnsafeRawBufferPointer]) -> Bool {
        guard !self.refusing else { return false }
        self.packets.append(pieces.flatMap { Array($0) })
        return true
    }

    func take() -> [[UInt8]] {
        defer { self.packets.removeAll() }
        return self.packets
    }
}

/// A TCP segment the app received, decoded.
struct SegmentToApp: Equatable {
    var flags: TCPFlags
    var seq: UInt32
    var ack: UInt32?
    var payload: [UInt8]
    var window: UInt16
    var sourcePort: UInt16
    var destinationPort: UInt16
}

let appAddress = IPAddress("198.18.0.1")!
let serverAddress = IPAddress("192.0.2.10")!

/// BridgeCore with a scripted modem and a clock that only moves when the test says.
final class BridgeCoreHarness {
    let modem: FakeModemDriver
    let sink = PacketCollector()
    let core: BridgeCore
    var now = Instant(nanoseconds: 1_000_000_000)
    let lines = LogLines()

    final class LogLines: @unchecked Sendable {
        var all: [String] = []
    }

    init(model: ModemModel = .ec600e, socketCount: Int? = nil, config: BridgeConfig = BridgeConfig()) {
        let modem = FakeModemDriver(model: model, socketCount: socketCount)
        self.modem = modem
        let lines = self.lines
        let log = Log(threshold: .debug, style: .journald, now: { "" }, sink: { lines.all.append($0) })
        self.core = BridgeCore(config: config, log: log, sink: self.sink, now: self.now) { modem }
    }

    /// Brings the scripted modem up: bring-up, the leftover-socket query answered empty.
    func bringUp() {
        self.core.start(now: self.now)
        #expect(self.modem.takeRequests() == [.bringUp])
        self.modem.push(.dataConnectionUp(FakeModemDriver.connection(self.modem.model ?? .ec600e)))
        self.turn()
        #expect(self.modem.takeRequests() == [.reconcile])
        self.modem.push(.socketStates([:]))
        self.turn()
    }

    /// The modem's events are read (the daemon calls tick after serial input).
    func turn() { self.core.tick(now: self.now) }

    func advance(_ d: Duration) {
        self.now = self.now + d
        self.turn()
    }

    func fromApp(_ packet: [UInt8]) {
        packet.withUnsafeBytes { self.core.receivePacket($0, now: self.now) }
    }

    /// The app's TCP segments to the server, port `port` (the app's port picks the flow).
    func tcp(_ flags: TCPFlags, seq: UInt32, ack: UInt32? = nil, payload: [UInt8] = [], appPort: UInt16 = 40000,
             serverPort: UInt16 = 80, window: UInt16 = 65535) -> [UInt8] {
        let repr = TCPRepr(sourcePort: appPort, destinationPort: serverPort, sequenceNumber: SeqNumber(rawValue: seq),
                           ackNumber: ack.map { SeqNumber(rawValue: $0) }, flags: flags, windowLength: window,
                           maxSegmentSize: flags.contains(.syn) ? 1460 : nil, payloadLength: payload.count)
        let ip = IPRepr(source: appAddress, destination: serverAddress, protocol: .tcp, payloadLength: repr.bufferLength)
        var out = [UInt8](repeating: 0, count: ip.bufferLength)
        let payloadStart = ip.headerLength + repr.headerLength
        out.replaceSubrange(payloadStart..<out.count, with: payload)
        out.withUnsafeMutableBytes { buffer in
            ip.emit(into: buffer)
            repr.emit(into: UnsafeMutableRawBufferPointer(rebasing: buffer[ip.headerLength..<payloadStart]),
                      source: appAddress, destination: serverAddress,
                      payload: UnsafeRawBufferPointer(rebasing: buffer[payloadStart...]))
        }
        return out
    }

    /// The TCP segments written to the app since the last call.
    func segmentsToApp() throws -> [SegmentToApp] {
        try self.sink.take().map { bytes in
            try bytes.withUnsafeBytes { raw in
                let ip = try IPPacket(validating: raw)
                #expect(ip.source == serverAddress && ip.destination == appAddress)
                let t = try TCPRepr.parse(ip.payload, source: ip.source, destination: ip.destination)
                let start = ip.payload.count - t.payloadLength
                return SegmentToApp(flags: t.flags, seq: t.sequenceNumber.rawValue, ack: t.ackNumber?.rawValue,
                                    payload: Array(ip.payload[start...]), window: t.windowLength,
                                    sourcePort: t.sourcePort, destinationPort: t.destinationPort)
            }
        }
    }

    /// SYN from the app on `appPort`; returns the modem socket the bridge opened (if it did).
    @discardableResult
    func syn(appPort: UInt16 = 40000, serverPort: UInt16 = 80, seq: UInt32 = 1000) -> Int? {
        self.fromApp(self.tcp(.syn, seq: seq, appPort: appPort, serverPort: serverPort))
        for r in self.modem.takeRequests() {
            if case .open(let s, .tcp, "192.0.2.10", serverPort) = r { return s }
        }
        return nil
    }

    /// A whole handshake: SYN, the modem opens `socket`, SYN-ACK, the app's ACK. Returns
    /// our initial sequence number.
    func connect(appPort: UInt16 = 40000, seq: UInt32 = 1000) throws -> (socket: Int, iss: UInt32) {
        let socket = try #require(self.syn(appPort: appPort, seq: seq))
        self.modem.push(.opened(ModemSocketID(socket), nil))
        self.turn()
        let synAck = try #require(try self.segmentsToApp().first)
        #expect(synAck.flags.contains(.syn) && synAck.ack == seq + 1)
        self.fromApp(self.tcp([], seq: seq + 1, ack: synAck.seq &+ 1, appPort: appPort))
        return (socket, synAck.seq)
    }
}
