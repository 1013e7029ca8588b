import AT
import Buffers

// # ModemDriver: what the bridge drives
//
// A `ModemDriver` is the whole of one modem, sans-I/O: it never reads, writes or looks at a
// clock. Its owner (`ModemRunner` for `probe` and tests, the bridge's epoll loop for `run`)
// does four things, in any order, from one thread:
//
//   1. Bytes read from the serial fd go to `received(_:now:)`.
//   2. `tick(now:)` is called no later than `nextDeadline` (command timeouts, retry timers).
//   3. After each call, `nextWrite()` is drained: each `ATWrite` is a list of slices for one
//      `writev` (a command line, or a payload slice straight from the caller's buffer). They
//      must be written in order and completely before the next one.
//   4. `nextEvent()` is drained: typed events (`ModemEvent`), each naming its socket.
//
// Requests (`identify`, `bringUp`, `open`, `send`, `read`, `close`, `resolve`, `ping`,
// `querySignal`, `queryRegistration`, `reconcile`) only queue commands; their results come
// back as events. A request the driver cannot take now throws `ModemError` at once
// (`.busy` when the command queue is full, `.wrongState`, `.badSocket`,
// `.unsafeArgument` for host names or APNs that could inject a second AT command).
//
// Send contract (never lose bytes): `send(socket, bytes)` hands the driver a slice it keeps
// (no copy) until the modem answers. Exactly one of these follows:
//   - `.sendAccepted(socket, n)`: the modem took the first n bytes (n ≤ maxSend; bytes after
//     n were not sent and stay the caller's);
//   - `.sendBusy(socket)`: the modem's buffer was full (SEND FAIL, zero free size, confirmed
//     length 0); nothing was taken; send the same bytes later;
//   - `.sendFailed(socket, error)`: nothing was taken; the socket is probably gone.
// One send per socket may be pending; a second throws `.wrongState`. A modem that confirms
// delivery only after taking the bytes (SIM7028's `+CIPSEND: l,req,cnf`) and then reports a
// short confirmation gives `.broken(socket, error)`: bytes already accepted are lost, so the
// flow must be reset, not closed quietly.
//
// Receive contract: `.dataReady(socket)` says the modem holds data; the caller `read`s with
// the size it has room for (≤ maxRead) and gets exactly one `.received(socket, bytes)` per
// read (empty when the modem had nothing, or the read failed). After a read that returned
// bytes and may have left more, the driver says `.dataReady` again, because the modem will
// not repeat its notice until its buffer has been read empty (Quectel EC §2.4.11).
//
// Shared datagram socket (only where `capabilities.udpSharedSocket`; elsewhere both requests
// throw `.unsupported`): `openDatagramService(socket, localPort:)` opens one UDP socket bound
// to that local port that talks to any peer (Quectel "UDP SERVICE", EC §2.4.7) →
// `.opened(socket, nil | error)`. `sendDatagram(socket, to: host, port:, bytes)` sends ONE
// whole datagram (≤ maxSend, a dotted IPv4 host, else `.invalidArgument`; never split) to that
// peer, under the send contract above: one pending send per socket, then exactly one of
// `.sendAccepted(socket, bytes.count)` / `.sendBusy` / `.sendFailed`. `send` on such a socket
// throws `.wrongState` (it names no peer). Receive: `.dataReady(socket)` as for any socket;
// each `read` (its `max` is not sent: the modem returns one whole datagram, ≤ maxRead, EC
// §3.6) gives exactly one `.datagramReceived(socket, from: host, port:, bytes)`, or
// `.received(socket, [])` when nothing was buffered or the read failed, or, should the
// modem's header name no sender, `.received(socket, bytes)` (the caller cannot attribute
// it). `.dataReady` follows a read that returned a datagram, as above. Close, peer close,
// network loss and reboot are as for any socket.
//
// Close: `close(socket)` → `.closed(socket)`. The peer closing → `.closedByPeer(socket)`;
// unread data is still readable, so read until nothing comes back, then `close`.
// Network loss and modem reboot invalidate every socket (`.networkLost`, `.modemRebooted`).

/// The sans-I/O interface of a modem driver. See the comment at the top of this file.
public protocol ModemDriver: AnyObject {
    /// The model being driven; nil until identified when auto-detecting.
    var model: ModemModel? { get }
    var capabilities: ModemCapabilities { get }
    /// When `tick` must next be called; nil when nothing is timed.
    var nextDeadline: Instant? { get }

    /// Bytes read from the serial fd. Not generic: called through `any ModemDriver` on every
    /// read, where a generic requirement runs unspecialised.
    func received(_ bytes: UnsafeRawBufferPointer, now: Instant)
    func tick(now: Instant)
    func nextWrite() -> ATWrite?
    func nextEvent() -> ModemEvent?

    /// Reads model, firmware, IMEI and IMSI → `.identified`.
    func identify(now: Instant) throws(ModemError)
    /// SIM, registration, signal, APN/PDP context, local IP, socket settings →
    /// `.bringUpProgress` per step, then `.dataConnectionUp` or `.bringUpFailed`.
    func bringUp(apn: String?, limits: BringUpLimits, now: Instant) throws(ModemError)
    /// Opens a client socket → `.opened(socket, nil | error)`.
    func open(_ socket: ModemSocketID, _ proto: SocketProtocol, host: String, port: UInt16,
              now: Instant) throws(ModemError)
    /// Sends up to `maxSend` bytes of `bytes` → `.sendAccepted` / `.sendBusy` / `.sendFailed`.
    func send(_ socket: ModemSocketID, _ bytes: ArraySlice<UInt8>, now: Instant) throws(ModemError)
    /// Opens a UDP socket on `localPort` (≠ 0) that sends to and receives from any peer →
    /// `.opened`. Only where `capabilities.udpSharedSocket`; otherwise throws `.unsupported`.
    func openDatagramService(_ socket: ModemSocketID, localPort: UInt16, now: Instant) throws(ModemError)
    /// Sends one whole datagram to `host` (dotted IPv4) `port` on a datagram service socket →
    /// `.sendAccepted(socket, bytes.count)` / `.sendBusy` / `.sendFailed`.
    func sendDatagram(_ socket: ModemSocketID, to host: String, port: UInt16, _ bytes: ArraySlice<UInt8>,
                      now: Instant) throws(ModemError)
    /// Reads up to `max` buffered bytes → exactly one `.received` (empty when none).
    func read(_ socket: ModemSocketID, max: Int, now: Instant) throws(ModemError)
    /// Closes a socket → `.closed`.
    func close(_ socket: ModemSocketID, now: Instant) throws(ModemError)
    /// Resolves a host name with the modem's DNS → `.dnsResult`.
    func resolve(_ host: String, now: Instant) throws(ModemError)
    /// Pings a host from the modem → `.pingResult`.
    func ping(_ host: String, count: Int, now: Instant) throws(ModemError)
    /// → `.signal`.
    func querySignal(now: Instant) throws(ModemError)
    /// → `.registration`.
    func queryRegistration(now: Instant) throws(ModemError)
    /// Asks the modem which sockets it has and in what state → `.socketStates`.
    func reconcile(now: Instant) throws(ModemError)
}

/// How long bring-up may wait at its slow steps. `probe --timeout` shortens them.
public struct BringUpLimits: Sendable, Equatable {
    /// Until the modem answers `AT` at all.
    public var sync: Duration
    /// Until `+CPIN: READY` (the SIM needs a few seconds after power-on).
    public var sim: Duration
    /// Until registered.
    public var registration: Duration
    /// For the PDP activation (EC §2.4.3: QIACT up to 150 s; SIM7028 NETOPEN 120 s).
    public var dataContext: Duration
    /// A ceiling on every single command's timeout.
    public var commandCeiling: Duration

    public init(sync: Duration = .seconds(5), sim: Duration = .seconds(10),
                registration: Duration = .seconds(90), dataContext: Duration = .seconds(150),
                commandCeiling: Duration = .seconds(150)) {
        self.sync = sync
        self.sim = sim
        self.registration = registration
        self.dataContext = dataContext
        self.commandCeiling = commandCeiling
    }

    /// Every limit cut to at most `total`.
    public func capped(at total: Duration) -> BringUpLimits {
        BringUpLimits(sync: min(self.sync, total), sim: min(self.sim, total),
                      registration: min(self.registration, total),
                      dataContext: min(self.dataContext, total),
                      commandCeiling: min(self.commandCeiling, total))
    }
}

/// Makes the driver for `model`, or, for nil, one that detects the model from ATI / AT+CGMM
/// during `identify` or `bringUp` and then speaks its dialect.
public func makeModemDriver(model: ModemModel?) -> any ModemDriver {
    ATModemDriver(model: model)
}

extension ModemDriver {
    /// `received` from any byte collection (tests, tools).
    public func received<C: Collection>(_ bytes: C, now: Instant) where C.Element == UInt8 {
        let done: Void? = bytes.withContiguousStorageIfAvailable { self.received(UnsafeRawBufferPointer($0), now: now) }
        if done == nil { Array(bytes).withUnsafeBytes { self.received($0, now: now) } }
    }
}
