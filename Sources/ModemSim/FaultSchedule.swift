import Buffers

/// A fault planned with `--fault SPEC`.
///
/// Grammar: `NAME@TIME[+DURATION][:ARG]`, times as `250ms`, `5s` or plain seconds, measured
/// from start-up:
///
/// | spec | effect |
/// |---|---|
/// | `reboot@5s` | reboot at 5 s |
/// | `netloss@10s[+D]` | network lost at 10 s (back after D, if given) |
/// | `netback@20s` | network back |
/// | `remote-close@4s:ID` | the peer closes socket ID |
/// | `sendfull@2s[+D]` | every send fails from 2 s (for D, if given) |
/// | `garbage@1s:N` | N random bytes on the line |
/// | `silence@3s+D` | no answer for D |
public struct ScheduledFault: Equatable, Sendable {
    public var at: Duration
    public var fault: Fault
    /// For faults with a duration: the fault that ends it, `duration` after `at`.
    public var end: (after: Duration, fault: Fault)?

    public static func == (a: ScheduledFault, b: ScheduledFault) -> Bool {
        a.at == b.at && a.fault == b.fault && a.end?.after == b.end?.after && a.end?.fault == b.end?.fault
    }

    /// The fault names `--help` lists.
    public static let names = ["reboot", "netloss", "netback", "remote-close", "sendfull", "garbage", "silence"]

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case unknownFault(String)
        public var description: String {
            switch self {
            case .malformed(let s): return "malformed fault '\(s)' (expected NAME@TIME[+DURATION][:ARG])"
            case .unknownFault(let s): return "unknown fault '\(s)' (valid: \(ScheduledFault.names.joined(separator: ", ")))"
            }
        }
    }

    public static func parse(_ spec: String) throws(ParseError) -> ScheduledFault {
        let nameAndRest = spec.split(separator: "@", maxSplits: 1).map(String.init)
        guard nameAndRest.count == 2 else { throw .malformed(spec) }
        let name = nameAndRest[0]
        var rest = nameAndRest[1]
        var argument: String? = nil
        if let colon = rest.firstIndex(of: ":") {
            argument = String(rest[rest.index(after: colon)...])
            rest = String(rest[..<colon])
        }
        var durationText: String? = nil
        if let plus = rest.firstIndex(of: "+") {
            durationText = String(rest[rest.index(after: plus)...])
            rest = String(rest[..<plus])
        }
        guard let at = parseDuration(rest) else { throw .malformed(spec) }
        var duration: Duration? = nil
        if let durationText {
            guard let d = parseDuration(durationText) else { throw .malformed(spec) }
            duration = d
        }
        func count() throws(ParseError) -> Int {
            guard let a = argument, let n = Int(a), n >= 0, n <= 1_000_000 else { throw .malformed(spec) }
            return n
        }
        switch name {
        case "reboot":
            guard argument == nil, duration == nil else { throw .malformed(spec) }
            return ScheduledFault(at: at, fault: .reboot, end: nil)
        case "netloss":
            guard argument == nil else { throw .malformed(spec) }
            return ScheduledFault(at: at, fault: .networkLoss, end: duration.map { ($0, .networkBack) })
        case "netback":
            guard argument == nil, duration == nil else { throw .malformed(spec) }
            return ScheduledFault(at: at, fault: .networkBack, end: nil)
        case "remote-close":
            guard duration == nil else { throw .malformed(spec) }
            return ScheduledFault(at: at, fault: .remoteClose(linkID: try count()), end: nil)
        case "sendfull":
            guard argument == nil else { throw .malformed(spec) }
            return ScheduledFault(at: at, fault: .sendBufferFull(true), end: duration.map { ($0, .sendBufferFull(false)) })
        case "garbage":
            guard duration == nil else { throw .malformed(spec) }
            return ScheduledFault(at: at, fault: .garbage(try count()), end: nil)
        case "silence":
            guard argument == nil, let duration else { throw .malformed(spec) }
            return ScheduledFault(at: at, fault: .silence(duration), end: nil)
        default:
            throw .unknownFault(name)
        }
    }

    /// `250ms`, `5s`, `1.5s` or plain seconds.
    static func parseDuration(_ text: String) -> Duration? {
        var number = text
        var scale = 1000.0
        if text.hasSuffix("ms") { number = String(text.dropLast(2)); scale = 1 } else if text.hasSuffix("s") { number = String(text.dropLast()) }
        guard let value = Double(number), value >= 0, value <= 86_400_000 else { return nil }
        return .milliseconds(Int64(value * scale))
    }
}

/// One line of the control socket, turned into a fault (see tun2modem-sim(1), CONTROL).
public enum ControlCommand {
    public static func parse(_ line: String) -> Result<Fault, ControlError> {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        switch (words.first, words.count) {
        case ("reboot", 1): return .success(.reboot)
        case ("netloss", 1): return .success(.networkLoss)
        case ("netback", 1): return .success(.networkBack)
        case ("remote-close", 2):
            guard let id = Int(words[1]), id >= 0, id < 64 else { return .failure(.badArgument(line)) }
            return .success(.remoteClose(linkID: id))
        case ("sendfull", 2):
            guard words[1] == "on" || words[1] == "off" else { return .failure(.badArgument(line)) }
            return .success(.sendBufferFull(words[1] == "on"))
        case ("garbage", 2):
            guard let n = Int(words[1]), n >= 0, n <= 65536 else { return .failure(.badArgument(line)) }
            return .success(.garbage(n))
        case ("silence", 2):
            guard let d = ScheduledFault.parseDuration(words[1]) else { return .failure(.badArgument(line)) }
            return .success(.silence(d))
        default:
            return .failure(.unknownCommand(line))
        }
    }

    public enum ControlError: Error, CustomStringConvertible {
        case unknownCommand(String)
        case badArgument(String)
        public var description: String {
            switch self {
            case .unknownCommand(let l): return "unknown command '\(l)' (valid: reboot, netloss, netback, remote-close ID, sendfull on|off, garbage N, silence SECONDS)"
            case .badArgument(let l): return "bad argument in '\(l)'"
            }
        }
    }
}
