import Buffers

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
    /// `CONNECT`: `socket` now owns the line (transparent mode) with these packet settings.
    case connect(SimSocket, TransparentSettings)

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
    /// `socket` left transparent mode (after `+++` or a lost connection).
    func leftTransparent(_ socket: SimSocket, modem: SimModem, now: Instant)
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
    func leftTransparent(_ socket: SimSocket, modem: SimModem, now: Instant) {}
}

