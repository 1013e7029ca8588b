/// Where the bridge's packets for the app go: the TUN device in the daemon, a list in tests.
///
/// A packet is given as pieces (IP+transport header, then payload spans that may lie in a
/// flow's buffer), so the daemon can `writev` them without gathering them first.
public protocol PacketSink: AnyObject {
    /// Writes one whole IP packet made of `pieces`, in order. Returns false when the packet
    /// could not be written (the TUN queue is full): the caller keeps it and counts it.
    func writePacket(_ pieces: [UnsafeRawBufferPointer]) -> Bool
}

/// Thrown out of a TCP `emit` closure when the sink refused a segment, so the endpoint
/// keeps it as unsent.
struct SinkRefused: Error {}
