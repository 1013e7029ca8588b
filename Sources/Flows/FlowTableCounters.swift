/// What the flow table has seen since start, for the stats socket.
public struct FlowTableCounters: Hashable, Sendable {
    /// Flows ever created.
    public internal(set) var opened = 0
    /// Flows removed, TCP ones by the reason their endpoint closed.
    public internal(set) var closedByReason: [TCPCloseReason: Int] = [:]
    /// Connectionless flows removed (idle timeout or explicit removal).
    public internal(set) var otherClosed = 0
    /// New flows refused because the table was full.
    public internal(set) var refusedTableFull = 0
    /// RSTs answered to segments that belong to no flow.
    public internal(set) var resetsForUnknownFlows = 0
    /// TIME-WAIT flows evicted early to make room.
    public internal(set) var evictedTimeWait = 0
    /// Bytes the app was told we had but the modem never took (TCP flows reset for it).
    public internal(set) var bytesUndelivered = 0

    /// TCP flows that ended in anything but an orderly close.
    public var resets: Int {
        closedByReason.filter { $0.key != .finished }.reduce(0) { $0 + $1.value }
    }
}
