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
