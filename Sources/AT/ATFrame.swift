/// One unit the framer cuts out of the modem's byte stream.
public enum ATFrame: Equatable, Sendable {
    /// A response, result code or URC line, without its CR/LF. Never empty.
    case line([UInt8])
    /// The part of a line before data that the modem puts on the same line
    /// (OneMO `+MIPURC: "rtcp",0,10,<data>`, `+MIPRD: 0,10,20,<data>`), with its last comma.
    /// A `.payload` always follows it.
    case inlineHeader([UInt8])
    /// The data-entry prompt `>` after a send command.
    case prompt
    /// Exactly the number of bytes a header announced, taken by count: it may hold CR, LF,
    /// `OK`, `SEND OK` or anything else.
    case payload([UInt8])
}

extension ATFrame: CustomStringConvertible {
    public var description: String {
        switch self {
        case .line(let l): return "line(\(String(decoding: l, as: UTF8.self)))"
        case .inlineHeader(let l): return "inlineHeader(\(String(decoding: l, as: UTF8.self)))"
        case .prompt: return "prompt"
        case .payload(let p): return "payload(\(p.count) bytes)"
        }
    }
}
