/// One line per event on stderr, with a level, a subsystem and a message.
///
/// Under systemd (`JOURNAL_STREAM` or `INVOCATION_ID` set) lines carry no timestamp and
/// start with the kernel-style `<N>` priority prefix, because journald adds its own time and
/// reads the level from that prefix; elsewhere each line starts with an RFC 3339 UTC time.
/// Formatting is pure; the sink that writes the line is injected, so tests read lines back.
public struct Log: Sendable {
    public enum Level: Int, Comparable, Sendable, CustomStringConvertible {
        // syslog priorities, so the journald prefix is the raw value.
        case error = 3, warning = 4, notice = 5, info = 6, debug = 7

        public static func < (a: Level, b: Level) -> Bool { a.rawValue > b.rawValue }

        public var description: String {
            switch self {
            case .error: "error"
            case .warning: "warning"
            case .notice: "notice"
            case .info: "info"
            case .debug: "debug"
            }
        }

        public init?(name: String) {
            switch name {
            case "error": self = .error
            case "warning": self = .warning
            case "notice": self = .notice
            case "info": self = .info
            case "debug": self = .debug
            default: return nil
            }
        }
    }

    public enum Style: Sendable { case timestamped, journald }

    public var threshold: Level
    public let style: Style
    private let now: @Sendable () -> String
    private let sink: @Sendable (String) -> Void

    /// - Parameters:
    ///   - now: the wall-clock time as RFC 3339 text, used in `.timestamped` style only.
    ///   - sink: writes one finished line (with its newline).
    public init(threshold: Level = .info, style: Style, now: @escaping @Sendable () -> String, sink: @escaping @Sendable (String) -> Void) {
        self.threshold = threshold
        self.style = style
        self.now = now
        self.sink = sink
    }

    /// The style systemd expects: journald sets `JOURNAL_STREAM` for services whose stderr it
    /// reads, and `INVOCATION_ID` for every unit.
    public static func style(environment: (String) -> String?) -> Style {
        environment("JOURNAL_STREAM") != nil || environment("INVOCATION_ID") != nil ? .journald : .timestamped
    }

    public func isEnabled(_ level: Level) -> Bool { level >= self.threshold }

    /// Logs `message()` if `level` passes the threshold; the message is not built otherwise.
    public func log(_ level: Level, _ subsystem: String, _ message: @autoclosure () -> String) {
        guard self.isEnabled(level) else { return }
        self.sink(self.format(level, subsystem, message()))
    }

    public func error(_ subsystem: String, _ message: @autoclosure () -> String) { self.log(.error, subsystem, message()) }
    public func warning(_ subsystem: String, _ message: @autoclosure () -> String) { self.log(.warning, subsystem, message()) }
    public func notice(_ subsystem: String, _ message: @autoclosure () -> String) { self.log(.notice, subsystem, message()) }
    public func info(_ subsystem: String, _ message: @autoclosure () -> String) { self.log(.info, subsystem, message()) }
    public func debug(_ subsystem: String, _ message: @autoclosure () -> String) { self.log(.debug, subsystem, message()) }

    func format(_ level: Level, _ subsystem: String, _ message: String) -> String {
        // A message is one line: embedded newlines (from modem text, say) would forge lines.
        var text = ""
        for scalar in message.unicodeScalars {
            switch scalar {
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case let c where c.value < 0x20 || c.value == 0x7F:
                text += "\\x" + (c.value < 0x10 ? "0" : "") + String(c.value, radix: 16)
            default: text.unicodeScalars.append(scalar)
            }
        }
        switch self.style {
        case .journald: return "<\(level.rawValue)>\(subsystem): \(text)\n"
        case .timestamped: return "\(self.now()) \(level) \(subsystem): \(text)\n"
        }
    }
}
