import AT

/// Why the driver refused a request or a request failed. The cases are the reasons the
/// stats count.
public enum ModemError: Error, Equatable, Sendable {
    /// The socket id is outside the model's range.
    case badSocket
    /// The socket is not in a state for this request (not open, already opening, a send
    /// already in flight).
    case wrongState
    /// Host name, APN or other text that cannot go on an AT command line safely.
    case unsafeArgument
    /// Too many requests already queued; try later.
    case busy
    /// The modem answered ERROR / +CME ERROR (code, -1 when none was given).
    case modemError(Int)
    /// The modem reported the operation failed with its own error code (Quectel 5xx,
    /// SIMCom `<err>`, OneMO 55x).
    case failed(Int)
    /// No answer within the manual's timeout.
    case timedOut
    /// The modem rebooted or the network went away while the request was pending.
    case aborted
    /// The model does not do this (e.g. ping on a dialect without it).
    case unsupported
    /// A value the command cannot carry: a datagram larger than one send (a datagram is
    /// never split), local port 0 for a datagram service, a peer that is not a dotted IPv4
    /// address where the manual requires one.
    case invalidArgument

    init(_ error: ATError) {
        switch error {
        case .queueFull: self = .busy
        default: self = .unsafeArgument
        }
    }

    init(_ result: ATResult) {
        switch result {
        case .cmeError(let n), .cmsError(let n): self = .modemError(n)
        case .timedOut: self = .timedOut
        default: self = .modemError(-1)
        }
    }
}
