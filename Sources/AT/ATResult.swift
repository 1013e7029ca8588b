/// How a command ended: the result code that finished it, or the timeout.
public enum ATResult: Equatable, Sendable {
    case ok
    case error
    /// `+CME ERROR: <n>` (3GPP TS 27.007 §9.2); `n` is -1 when the text was not a number.
    case cmeError(Int)
    /// `+CMS ERROR: <n>` (3GPP TS 27.005 §3.2.5).
    case cmsError(Int)
    /// Quectel/SIMCom `SEND OK`: the modem took the payload.
    case sendOK
    /// Quectel `SEND FAIL`: the modem's send buffer is full; the same bytes may be sent later.
    case sendFail
    /// Quectel BC `CLOSE OK` (BC §2.3.2).
    case closeOK
    /// `CONNECT[ <text>]`: transparent mode entered.
    case connect
    case noCarrier
    /// A dialect's own final line, matched by an `ATFinalRule` with this kind.
    case custom(String)
    /// No final result within the command's timeout.
    case timedOut

    /// True for the results that mean the command did what was asked.
    public var isSuccess: Bool {
        switch self {
        case .ok, .sendOK, .closeOK, .connect, .custom: return true
        default: return false
        }
    }
}

/// A line that ends (or, when not terminal, merely punctuates) a command's response.
public struct ATFinalRule: Sendable, Equatable {
    /// The driver's text, compared by its UTF-8. Results are short (`OK`, `+CME ERROR:`,
    /// `SEND FAIL`) and a short string is stored inline: building a command's rules
    /// allocates nothing but their array.
    public enum Match: Sendable, Equatable {
        /// The whole line.
        case exact(String)
        /// The line starts with these bytes.
        case prefix(String)
    }
    public var match: Match
    public var result: ATResult
    /// False for a line that the command prints before its real end, e.g. Quectel BC's `OK`
    /// between the payload and `SEND OK` (BC §2.3.4).
    public var terminal: Bool
    /// The rule applies only after a non-terminal line was seen; before that the line is an
    /// ordinary information line. SIMCom ends `AT+CIPSEND` with `OK` then `+CIPSEND: ...`,
    /// but reports a failure as `+CIPERROR: <err>` then `ERROR` (SIM7028 note §2.1.4): the
    /// `+CIPSEND:`/`+CIPCLOSE:` line ends the command only when the `OK` came first.
    public var onlyAfterIntermediate: Bool

    public init(_ match: Match, _ result: ATResult, terminal: Bool = true, onlyAfterIntermediate: Bool = false) {
        self.match = match
        self.result = result
        self.terminal = terminal
        self.onlyAfterIntermediate = onlyAfterIntermediate
    }

    public static func exact(_ s: String, _ result: ATResult, terminal: Bool = true) -> ATFinalRule {
        ATFinalRule(.exact(s), result, terminal: terminal)
    }

    public static func prefix(_ s: String, _ result: ATResult, terminal: Bool = true,
                              onlyAfterIntermediate: Bool = false) -> ATFinalRule {
        ATFinalRule(.prefix(s), result, terminal: terminal, onlyAfterIntermediate: onlyAfterIntermediate)
    }

    func matches(_ line: [UInt8]) -> Bool {
        switch self.match {
        case .exact(let e): return line.elementsEqual(e.utf8)
        case .prefix(let p): return line.starts(with: p.utf8)
        }
    }

    /// OK, ERROR, +CME ERROR, +CMS ERROR: what every 3GPP command may end with. Built per
    /// use (one small array: the texts are inline strings) rather than held in a lazily
    /// allocated global, which LeakSanitizer reports under `scripts/fuzz`.
    public static var standard: [ATFinalRule] {[
        .exact("OK", .ok), .exact("ERROR", .error),
        .prefix("+CME ERROR:", .cmeError(-1)), .prefix("+CMS ERROR:", .cmsError(-1)),
    ]}
}

/// One information line of a response, with the payload that followed it when its header
/// announced one (`+QIRD: 4` then 4 bytes).
public struct ATInfo: Equatable, Sendable {
    public var line: [UInt8]
    public var payload: [UInt8]?

    public init(line: [UInt8], payload: [UInt8]? = nil) {
        self.line = line
        self.payload = payload
    }

    public var text: String { String(decoding: self.line, as: UTF8.self) }
}

/// A finished command: what it printed and how it ended.
public struct ATResponse<Tag: Sendable>: Sendable {
    public var tag: Tag
    /// The command line that was sent (for logs and timeout reports).
    public var command: [UInt8]
    public var result: ATResult
    /// The line that ended it (`+CME ERROR: 10`), empty on timeout.
    public var finalLine: [UInt8]
    /// Non-terminal final lines seen before the end, in order (BC's `OK` before `SEND OK`).
    public var intermediates: [ATResult]
    public var info: [ATInfo]
    /// Whether the `>` prompt came (send commands).
    public var prompted: Bool
    /// From the command's dispatch (its line queued for the serial fd) to its final result
    /// or timeout; nil for a command abandoned before it ended (reboot, shutdown).
    public var elapsed: Duration? = nil
}
