/// Why the AT layer refused or dropped something. The cases are the reasons the stats count.
public enum ATError: Error, Equatable, Sendable {
    /// A line grew past `ATFramer.maxLineLength` before its end; it was dropped.
    case lineTooLong
    /// A payload header announced more bytes than `ATFramer.maxPayloadLength`.
    case payloadTooLong
    /// The command queue already holds `ATEngine.maxQueued` commands: try later.
    case queueFull
    /// Text meant for an AT command line holds a byte that could end or split the command
    /// (CR, LF, `"`, `;`, a control byte or a non-ASCII byte) or is too long.
    case unsafeArgument
}
