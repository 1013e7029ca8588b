import Modems
import Buffers

/// AT commands by command name: how many were sent, how they ended, and how long they took.
///
/// The name is the command's verb without parameters (`AT+QISEND=0,10` → `+QISEND`,
/// `ATE0` → `E0`... see `name(of:)`), so the table stays small whatever the arguments.
/// At most `capacity` names are kept; the rest count under `other`.
public struct ATCommandStats: Sendable, Equatable {
    public static func == (a: ATCommandStats, b: ATCommandStats) -> Bool {
        a.capacity == b.capacity && a.entries == b.entries
    }

    /// How a command ended.
    public enum Outcome: Sendable, Equatable {
        /// `OK` or the dialect's success result (`SEND OK`, a prompt taken).
        case ok
        /// `ERROR`, `+CME ERROR`, `SEND FAIL` and the like: the modem answered, but refused.
        case error
        /// No final result within the manual's timeout.
        case timeout
    }

    public struct Entry: Sendable, Equatable {
        public let name: String
        public internal(set) var sent: UInt64 = 0
        public internal(set) var ok: UInt64 = 0
        public internal(set) var errors: UInt64 = 0
        public internal(set) var timeouts: UInt64 = 0
        /// Time from the command's last byte written to its final result, in milliseconds
        /// (answered commands only: a timeout would only measure the timeout).
        public internal(set) var latency = Histogram()
    }

    public let capacity: Int
    public private(set) var entries: [Entry] = []
    /// Command text → entry, so that the name is parsed once per distinct text rather than
    /// twice per command (a bulk transfer sends thousands of the same `AT+QISEND` verb).
    /// Bounded: texts beyond it are parsed each time.
    private var slotByCommand: [String: Int] = [:]
    static let memoLimit = 64

    public init(capacity: Int = 32) {
        precondition(capacity > 1)
        self.capacity = capacity
    }

    /// Counts a command written to the modem; `command` is its text, e.g. `AT+QIRD=1,1500`.
    public mutating func sent(command: String) {
        let i = self.slot(forCommand: command)
        self.entries[i].sent &+= 1
    }

    /// Counts how a command ended, and its latency when it was answered.
    public mutating func completed(command: String, latency: Duration, outcome: Outcome) {
        let i = self.slot(forCommand: command)
        switch outcome {
        case .ok: self.entries[i].ok &+= 1
        case .error: self.entries[i].errors &+= 1
        case .timeout: self.entries[i].timeouts &+= 1
        }
        if outcome != .timeout { self.entries[i].latency.observe(Self.milliseconds(latency)) }
    }

    public subscript(name: String) -> Entry? { self.entries.first { $0.name == name } }

    public var totalSent: UInt64 { self.entries.reduce(0) { $0 &+ $1.sent } }
    public var totalTimeouts: UInt64 { self.entries.reduce(0) { $0 &+ $1.timeouts } }

    /// The command's name: the text after `AT` up to the first `=`, `?`, `\r` or `\n`
    /// (`AT+CSQ` → `+CSQ`, `AT+CEREG?` → `+CEREG`, `AT+QISEND=0,5` → `+QISEND`, `ATI` → `I`).
    /// Only letters, digits, `+`, `$`, `&` and `^` are kept, at most 16 of them, so modem
    /// junk cannot make arbitrary label values; text without `AT` gives `?`.
    public static func name(of command: String) -> String {
        var bytes = Substring(command).utf8.drop { $0 == UInt8(ascii: " ") }
        guard bytes.count >= 2,
              bytes.prefix(2).map({ $0 | 0x20 }) == [UInt8(ascii: "a"), UInt8(ascii: "t")] else { return "?" }
        bytes = bytes.dropFirst(2)
        var name = ""
        for b in bytes {
            if b == UInt8(ascii: "=") || b == UInt8(ascii: "?") || b == UInt8(ascii: "\r") || b == UInt8(ascii: "\n") { break }
            let isAlnum = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            guard isAlnum || b == UInt8(ascii: "+") || b == UInt8(ascii: "$") || b == UInt8(ascii: "&") || b == UInt8(ascii: "^") else { break }
            guard name.utf8.count < 16 else { break }
            name.unicodeScalars.append(Unicode.Scalar(b))
        }
        return name.isEmpty ? "AT" : name.uppercased()
    }

    static func milliseconds(_ d: Duration) -> Double {
        let c = d.components
        return Double(c.seconds) * 1000 + Double(c.attoseconds) / 1e15
    }

    private mutating func slot(forCommand command: String) -> Int {
        if let i = self.slotByCommand[command] { return i }
        let i = self.slot(for: Self.name(of: command))
        if self.slotByCommand.count < Self.memoLimit { self.slotByCommand[command] = i }
        return i
    }

    private mutating func slot(for name: String) -> Int {
        if let i = self.entries.firstIndex(where: { $0.name == name }) { return i }
        let key = self.entries.count < self.capacity - 1 ? name : NamedCounters.otherName
        if let i = self.entries.firstIndex(where: { $0.name == key }) { return i }
        self.entries.append(Entry(name: key))
        return self.entries.count - 1
    }
}

extension ATCommandStats.Outcome {
    /// The driver's view of how a command ended, as these statistics count it.
    public init(_ outcome: CommandOutcome) {
        switch outcome {
        case .answered: self = .ok
        case .refused: self = .error
        case .timedOut: self = .timeout
        }
    }
}
