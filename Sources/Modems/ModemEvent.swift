import AT
/// Steps of bringing the data connection up, in order; a failure names the step.
public enum BringUpStep: String, Sendable, Equatable {
    /// `AT` answers `OK` (the line, the baud and the modem are alive).
    case sync
    case echoOff
    case identify
    /// `AT+CPIN?` answers `READY`.
    case sim
    /// `+CEREG`/`+CGREG`/`+CREG` stat 1 (home) or 5 (roaming).
    case registration
    case signal
    /// The dialect's APN / PDP commands (QICSGP+QIACT, CGDCONT+NETOPEN, CGDCONT+CGACT).
    case dataContext
    /// The local IP of the data connection.
    case localIP
    /// Socket-layer settings (buffer mode, text format, echo of payload off).
    case socketConfig
}

/// Why bring-up stopped, with the step and a hint of what to check.
public struct BringUpFailure: Sendable, Equatable, CustomStringConvertible {
    public var step: BringUpStep
    public var reason: String
    public var hint: String

    public var description: String { "\(self.step.rawValue): \(self.reason) (check \(self.hint))" }
}

/// What the data connection looks like once it is up.
public struct DataConnection: Sendable, Equatable {
    public var identity: ModemIdentity
    public var registration: RegistrationState
    public var signal: SignalQuality?
    public var apn: String
    public var localIP: String
}

/// The outcome of `ping`.
public struct PingResult: Sendable, Equatable {
    public var host: String
    public var sent: Int
    public var received: Int
    /// Round-trip times of the replies, in milliseconds.
    public var rttMilliseconds: [Int]
    /// Non-zero: the modem's error code for the whole ping.
    public var error: Int
}

/// Everything a `ModemDriver` reports. Socket events carry the socket id: there is no
/// "current socket".
public enum ModemEvent: Sendable, Equatable {
    /// `identify()` or bring-up learnt what the modem is.
    case identified(ModemIdentity)
    /// Bring-up finished a step (progress for `probe -v` and logs).
    case bringUpProgress(BringUpStep)
    /// Bring-up finished: the modem can open sockets.
    case dataConnectionUp(DataConnection)
    case bringUpFailed(BringUpFailure)

    /// The result of `open`: nil on success, else why it failed (the socket id is free again).
    case opened(ModemSocketID, ModemError?)
    /// The modem holds received data for this socket; `read` it when there is room.
    case dataReady(ModemSocketID)
    /// Bytes read (buffer mode) or pushed (direct mode) from this socket, in order.
    case received(ModemSocketID, [UInt8])
    /// One whole datagram read from a datagram service socket (`openDatagramService`), with
    /// the sender the modem named: `host` is its dotted address as the modem wrote it.
    case datagramReceived(ModemSocketID, from: String, port: UInt16, [UInt8])
    /// The modem took the first `n` bytes of the pending send; the rest, if any, is the
    /// caller's to send again.
    case sendAccepted(ModemSocketID, Int)
    /// The modem's send buffer is full (SEND FAIL / no free size): nothing was taken; send
    /// the same bytes later.
    case sendBusy(ModemSocketID)
    /// The send failed for another reason (socket gone, ERROR); nothing was taken.
    case sendFailed(ModemSocketID, ModemError)
    /// A host `close` finished; the id is free.
    case closed(ModemSocketID)
    /// The peer or the network closed the socket. Unread data may remain: `read` until empty, then `close`.
    case closedByPeer(ModemSocketID)
    /// The modem gave the socket up holding bytes it had already taken (SIM7028: a send
    /// confirmed short, note §2.1.4): they will not arrive, so the flow must be reset, not
    /// closed quietly. Then `close` the id.
    case broken(ModemSocketID, ModemError)
    /// The answer to `resolve`: addresses, or the error.
    case dnsResult(host: String, addresses: [String], error: ModemError?)
    case pingResult(PingResult)
    case registration(RegistrationState)
    case signal(SignalQuality)
    /// The answer to `reconcile`: the modem's view of every socket it knows.
    case socketStates([ModemSocketID: ModemSocketState])
    /// The data connection (PDP context / network) went away; every socket is gone.
    case networkLost
    /// The modem restarted; every socket and setting is gone: bring up again.
    case modemRebooted
    /// A command got no final result within its timeout (text of the command).
    case commandTimedOut(String)
    /// A command ended: its verb (`AT+QISEND`, no parameters), the time from dispatch to its final line, and how it
    /// ended. For the daemon's per-command counters and latency histogram (issue 6).
    case commandCompleted(command: String, elapsed: Duration, outcome: CommandOutcome)
    /// An unsolicited result code arrived; `kind` names it (`+QIURC recv`, `RDY`).
    case urcReceived(kind: String)
}

/// How an AT command ended, as the statistics count it.
public enum CommandOutcome: Sendable, Equatable {
    /// A success result (`OK`, `SEND OK`, `CLOSE OK`, `CONNECT`, a dialect's own).
    case answered
    /// The modem answered with a refusal (`ERROR`, `+CME ERROR`, `SEND FAIL`, `NO CARRIER`).
    case refused
    /// No final result within the command's timeout.
    case timedOut

    public init(_ result: ATResult) {
        switch result {
        case .ok, .sendOK, .closeOK, .connect, .custom: self = .answered
        case .error, .cmeError, .cmsError, .sendFail, .noCarrier: self = .refused
        case .timedOut: self = .timedOut
        }
    }
}

extension ModemEvent {
    /// A URC's kind for counting: the text before its `:` and, when the first field is a
    /// quoted word, that word (`+QIURC: "recv",0` → `+QIURC recv`, `+MIPURC: "disconn",1,3`
    /// → `+MIPURC disconn`, `RDY` → `RDY`). Only `A-Z a-z 0-9 + _ -` survive, at most 24
    /// characters, so junk from the line cannot make unbounded or unsafe label values.
    public static func urcKind(of line: [UInt8]) -> String {
        func keep(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: "+") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
        }
        let colon = line.firstIndex(of: UInt8(ascii: ":"))
        var kind = String(decoding: line[..<(colon ?? line.endIndex)].filter(keep).prefix(24), as: UTF8.self)
        if let colon {
            let rest = line[(colon + 1)...].drop { $0 == UInt8(ascii: " ") }
            if rest.first == UInt8(ascii: "\"") {
                let word = rest.dropFirst().prefix { $0 != UInt8(ascii: "\"") }.filter(keep).prefix(12)
                if !word.isEmpty { kind += " " + String(decoding: word, as: UTF8.self) }
            }
        }
        return kind.isEmpty ? "?" : String(kind.prefix(24))
    }
}
