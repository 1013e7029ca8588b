import AT
import Buffers
@testable import Modems

/// A scripted modem for BridgeCore tests: it records every request and emits exactly the
/// events the test pushes, so each test states the modem's behaviour line by line.
final class FakeModemDriver: ModemDriver {
    enum Request: Hashable {
        case bringUp
        case open(Int, SocketProtocol, String, UInt16)
        case send(Int, [UInt8])
        case openService(Int, localPort: UInt16)
        case sendTo(Int, String, UInt16, [UInt8])
        case read(Int, max: Int)
        case close(Int)
        case resolve(String)
        case ping(String)
        case reconcile
    }

    var model: ModemModel?
    var capabilities: ModemCapabilities
    var nextDeadline: Instant? { nil }
    private(set) var requests: [Request] = []
    private var events: [ModemEvent] = []
    /// Requests throw `.busy` while this is set (a full command queue).
    var busy = false

    init(model: ModemModel = .ec600e, socketCount: Int? = nil) {
        self.model = model
        var caps = model.capabilities
        if let socketCount { caps.socketCount = socketCount }
        self.capabilities = caps
    }

    /// Events the bridge will read on its next turn.
    func push(_ event: ModemEvent) { self.events.append(event) }

    /// Takes the requests made since the last call.
    func takeRequests() -> [Request] {
        defer { self.requests.removeAll() }
        return self.requests
    }

    func received(_ bytes: UnsafeRawBufferPointer, now: Instant) {}
    func tick(now: Instant) {}
    func nextWrite() -> ATWrite? { nil }
    func nextEvent() -> ModemEvent? { self.events.isEmpty ? nil : self.events.removeFirst() }

    private func record(_ r: Request) throws(ModemError) {
        if self.busy { throw .busy }
        self.requests.append(r)
    }

    func identify(now: Instant) throws(ModemError) {}
    func bringUp(apn: String?, limits: BringUpLimits, now: Instant) throws(ModemError) { try self.record(.bringUp) }
    func open(_ socket: ModemSocketID, _ proto: SocketProtocol, host: String, port: UInt16, now: Instant) throws(ModemError) {
        try self.record(.open(socket.rawValue, proto, host, port))
    }
    func send(_ socket: ModemSocketID, _ bytes: ArraySlice<UInt8>, now: Instant) throws(ModemError) {
        try self.record(.send(socket.rawValue, Array(bytes.prefix(self.capabilities.maxSend))))
    }
    func openDatagramService(_ socket: ModemSocketID, localPort: UInt16, now: Instant) throws(ModemError) {
        guard self.capabilities.udpSharedSocket else { throw .unsupported }
        try self.record(.openService(socket.rawValue, localPort: localPort))
    }
    func sendDatagram(_ socket: ModemSocketID, to host: String, port: UInt16, _ bytes: ArraySlice<UInt8>,
                      now: Instant) throws(ModemError) {
        guard self.capabilities.udpSharedSocket else { throw .unsupported }
        try self.record(.sendTo(socket.rawValue, host, port, Array(bytes)))
    }
    func read(_ socket: ModemSocketID, max: Int, now: Instant) throws(ModemError) { try self.record(.read(socket.rawValue, max: max)) }
    func close(_ socket: ModemSocketID, now: Instant) throws(ModemError) { try self.record(.close(socket.rawValue)) }
    func resolve(_ host: String, now: Instant) throws(ModemError) { try self.record(.resolve(host)) }
    func ping(_ host: String, count: Int, now: Instant) throws(ModemError) { try self.record(.ping(host)) }
    func querySignal(now: Instant) throws(ModemError) {}
    func queryRegistration(now: Instant) throws(ModemError) {}
    func reconcile(now: Instant) throws(ModemError) { try self.record(.reconcile) }

    static func connection(_ model: ModemModel) -> DataConnection {
        DataConnection(identity: ModemIdentity(model: model, modelText: model.rawValue), registration: .home,
                       signal: nil, apn: "", localIP: "10.7.157.1")
    }
}
