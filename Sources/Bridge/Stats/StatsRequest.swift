/// A request on the stats socket: one word per line.
///
/// The protocol (man tun2modem.8, STATS SOCKET): the client writes a request word and a
/// newline; the daemon answers `stats`, `flows` and `status` with one JSON object on one
/// line, `metrics` with Prometheus text ending in the line `# EOF`, `help` with one line
/// naming the requests, and anything else with one line starting `error: `.
public enum StatsRequest: String, Sendable, CaseIterable {
    case stats, flows, status, metrics, help

    /// The line that ends a `metrics` reply (the other replies are exactly one line).
    public static let metricsTerminator = "# EOF"

    public static let helpLine = "requests: stats flows status (one JSON line each), metrics (Prometheus text ending with '# EOF'), help"
}

/// Splits the bytes a client sends into requests, sans-I/O: the server feeds what it
/// read; tests feed any chunking.
///
/// A line may be at most `maxLineLength` bytes before its newline; a longer one is
/// answered with one error and skipped up to its newline, so the connection stays usable.
/// A carriage return before the newline and blanks around the word are ignored; empty
/// lines are ignored.
public struct StatsRequestReader: Sendable {
    public enum Item: Sendable, Equatable {
        case request(StatsRequest)
        /// The text of the error line (without `error: ` and newline).
        case error(String)
    }

    public static let maxLineLength = 256

    private var line: [UInt8] = []
    /// Inside a line that already exceeded the limit: skip to its newline.
    private var skipping = false

    public init() {
        self.line.reserveCapacity(Self.maxLineLength)
    }

    /// Bytes of an unfinished line held (at most `maxLineLength`).
    public var pendingCount: Int { self.line.count }

    /// Takes bytes read from the client; returns the requests and errors they complete, in order.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [Item] {
        var items: [Item] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if self.skipping {
                    self.skipping = false
                } else if let item = Self.parse(self.line) {
                    items.append(item)
                }
                self.line.removeAll(keepingCapacity: true)
                continue
            }
            if self.skipping { continue }
            if self.line.count == Self.maxLineLength {
                items.append(.error("request longer than \(Self.maxLineLength) bytes"))
                self.line.removeAll(keepingCapacity: true)
                self.skipping = true
                continue
            }
            self.line.append(byte)
        }
        return items
    }

    public mutating func feed(_ bytes: [UInt8]) -> [Item] {
        bytes.withUnsafeBytes { self.feed($0) }
    }

    /// One complete line (without its newline): nil for a blank line.
    static func parse(_ line: [UInt8]) -> Item? {
        var slice = line[...]
        while let b = slice.first, b == 0x20 || b == 0x09 { slice.removeFirst() }
        while let b = slice.last, b == 0x20 || b == 0x09 || b == 0x0D { slice.removeLast() }
        if slice.isEmpty { return nil }
        guard slice.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
            return .error("malformed request: not printable ASCII")
        }
        let word = String(decoding: slice, as: UTF8.self)
        if let request = StatsRequest(rawValue: word) { return .request(request) }
        let shown = word.count > 32 ? String(word.prefix(32)) + "..." : word
        return .error("unknown request '\(shown)'; send 'help'")
    }
}
