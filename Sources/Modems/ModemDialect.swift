import AT
import Buffers

/// One AT dialect: its command templates, response and URC parsing, per-socket state and
/// payload framing. `ATModemDriver` owns one and runs it; the dialect talks back through the
/// driver (`enqueue`, `emit`). The generic 3GPP parts (sync, identity, SIM, registration,
/// signal) live in the driver.
protocol ModemDialect: AnyObject {
    var model: ModemModel { get }

    /// The dialect's own bring-up stage `index` (PDP context, local IP, socket settings),
    /// or nil when bring-up is complete.
    func bringUpCommand(_ index: Int, apn: String, limits: BringUpLimits) -> ATCommand<DriverOp>?
    func handleBringUp(_ index: Int, _ response: ATResponse<DriverOp>, apn: String,
                       limits: BringUpLimits) -> BringUpNext

    func open(_ socket: ModemSocketID, _ proto: SocketProtocol, host: String, port: UInt16,
              now: Instant) throws(ModemError)
    func send(_ socket: ModemSocketID, _ bytes: ArraySlice<UInt8>, now: Instant) throws(ModemError)
    /// A UDP socket for any peer (see `ModemDriver.openDatagramService`); `.unsupported` by default.
    func openDatagramService(_ socket: ModemSocketID, localPort: UInt16, now: Instant) throws(ModemError)
    func sendDatagram(_ socket: ModemSocketID, to host: String, port: UInt16, _ bytes: ArraySlice<UInt8>,
                      now: Instant) throws(ModemError)
    func read(_ socket: ModemSocketID, max: Int, now: Instant) throws(ModemError)
    func close(_ socket: ModemSocketID, now: Instant) throws(ModemError)
    func resolve(_ host: String, now: Instant) throws(ModemError)
    func ping(_ host: String, count: Int, now: Instant) throws(ModemError)
    func reconcile(now: Instant) throws(ModemError)

    /// A command of this dialect finished (any op but bring-up).
    func handle(_ response: ATResponse<DriverOp>, now: Instant)
    /// An unsolicited line (with its payload); false when the dialect does not know it.
    func handleURC(_ urc: ATInfo, now: Instant) -> Bool
    /// The dialect's own timers (open and DNS results that come as URCs).
    var nextDeadline: Instant? { get }
    func tick(now: Instant)
    /// Forget every socket (reboot, network loss).
    func resetSockets()

    func payloadLength(afterInfo line: [UInt8], of command: ATCommand<DriverOp>) -> Int?
    func payloadLength(afterURC line: [UInt8]) -> Int?
    func inlinePayloadLength(_ partialLine: ArraySlice<UInt8>, inFlight: DriverOp?) -> Int?
}

extension ModemDialect {
    func openDatagramService(_ socket: ModemSocketID, localPort: UInt16, now: Instant) throws(ModemError) {
        throw .unsupported
    }
    func sendDatagram(_ socket: ModemSocketID, to host: String, port: UInt16, _ bytes: ArraySlice<UInt8>,
                      now: Instant) throws(ModemError) {
        throw .unsupported
    }
    func inlinePayloadLength(_ partialLine: ArraySlice<UInt8>, inFlight: DriverOp?) -> Int? { nil }
}
