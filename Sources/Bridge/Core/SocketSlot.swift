import Buffers

/// What the bridge knows about one modem socket between `open` and `.closed`.
///
/// Each flag stands for one request that may be in the driver's queue, so the bridge never
/// asks twice (the driver allows one send per socket) and knows what an event answers.
struct SocketSlot {
    enum Phase: Equatable {
        /// Granted to a flow; `open` not yet accepted by the driver (queue full, modem down).
        case granted
        /// `open` queued; waiting for `.opened`.
        case opening
        case open
        /// `close` queued (or due); waiting for `.closed`.
        case closing
    }

    /// The flow it carries; nil once the flow ended and the socket only waits to close.
    var flow: FlowRef?
    var phase: Phase = .granted
    /// Bytes handed to the driver's pending send, until `.sendAccepted`/`.sendBusy`/`.sendFailed`.
    var sending: Int?
    /// After `.sendBusy`: do not send again before this (the modem's buffer is full).
    var sendRetryAt: Instant?
    /// Failed sends in a row (retried a few times before the flow is reset).
    var sendFailures = 0
    /// A `read` is queued; its `.received` is due.
    var reading = false
    /// The modem said it holds data (`.dataReady`), or the peer closed and the rest must be
    /// read until a read comes back empty.
    var dataReady = false
    /// The peer closed (`.closedByPeer`).
    var peerClosed = false
    /// The flow needs the modem socket closed; `close` is issued when nothing else is pending.
    var wantsClose = false
    /// The app half-closed; the socket stays open for the peer's answer until then.
    var lingerUntil: Instant?
    /// When to read without a data-ready notice (one may be held back), and how many such
    /// reads are left; set when the flow's bytes went out, cleared by data from the modem.
    var probeAt: Instant?
    var probesLeft = 0
    /// The gap before the next probe (doubles after each).
    var probeGap: Duration = .zero

    init(flow: FlowRef?) { self.flow = flow }
}
