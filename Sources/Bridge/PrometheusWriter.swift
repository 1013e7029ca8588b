/// Writes the Prometheus text exposition format (version 0.0.4) for the `metrics` request.
///
/// Each family is written once with its `# HELP` and `# TYPE` lines and then its samples;
/// label values are escaped (backslash, quote, newline) and help text likewise (backslash,
/// newline), as the format requires. Metric names are the daemon's own constants, checked
/// here anyway so a typo cannot produce output a scraper rejects.
public struct PrometheusWriter {
    public enum Kind: String { case counter, gauge, histogram }

    public private(set) var output = ""

    public init() {}

    public mutating func family(_ name: String, _ kind: Kind, help: String) {
        precondition(Self.isValidName(name), "invalid metric name \(name)")
        self.output += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
    }

    public mutating func sample(_ name: String, labels: KeyValuePairs<String, String> = [:], _ value: UInt64) {
        self.sample(name, labels, String(value))
    }

    public mutating func sample(_ name: String, labels: KeyValuePairs<String, String> = [:], _ value: Int) {
        self.sample(name, labels, String(value))
    }

    public mutating func sample(_ name: String, labels: KeyValuePairs<String, String> = [:], _ value: Double) {
        let text: String
        if value.isNaN { text = "NaN" } else if value.isInfinite { text = value > 0 ? "+Inf" : "-Inf" } else { text = String(value) }
        self.sample(name, labels, text)
    }

    /// A histogram's `_bucket` (cumulative, ending in `+Inf`), `_sum` and `_count` samples.
    public mutating func histogram(_ name: String, labels: KeyValuePairs<String, String> = [:], _ h: Histogram) {
        var cumulative: UInt64 = 0
        for (bound, count) in zip(h.upperBounds, h.counts) {
            cumulative += count
            self.sample(name + "_bucket", Self.appending(labels, "le", String(bound)), String(cumulative))
        }
        self.sample(name + "_bucket", Self.appending(labels, "le", "+Inf"), String(h.count))
        self.sample(name + "_sum", labels, String(h.sum))
        self.sample(name + "_count", labels, String(h.count))
    }

    private mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String>, _ value: String) {
        self.sample(name, Array(labels.map { ($0.key, $0.value) }), value)
    }

    private mutating func sample(_ name: String, _ labels: [(String, String)], _ value: String) {
        self.output += name
        if !labels.isEmpty {
            self.output += "{"
            for (i, (k, v)) in labels.enumerated() {
                if i > 0 { self.output += "," }
                self.output += k + "=\"" + Self.escapeLabel(v) + "\""
            }
            self.output += "}"
        }
        self.output += " " + value + "\n"
    }

    private static func appending(_ labels: KeyValuePairs<String, String>, _ k: String, _ v: String) -> [(String, String)] {
        labels.map { ($0.key, $0.value) } + [(k, v)]
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`, the format's rule for metric names.
    static func isValidName(_ name: String) -> Bool {
        func isLetter(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_" || c == ":" }
        guard let first = name.unicodeScalars.first, isLetter(first) else { return false }
        return name.unicodeScalars.allSatisfy { isLetter($0) || ("0"..."9").contains($0) }
    }

    static func escapeLabel(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func escapeHelp(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}

/// A latency histogram with fixed bucket bounds, in milliseconds: O(buckets) memory forever,
/// one comparison loop per observation, no allocation after init.
public struct Histogram: Sendable, Equatable {
    public let upperBounds: [Double]
    public private(set) var counts: [UInt64]
    public private(set) var count: UInt64 = 0
    public private(set) var sum: Double = 0

    /// Bounds suited to AT command latency: a few ms for `AT` on a fast line up to the
    /// manuals' longest timeouts (150 s for QIOPEN/QIACT).
    public static let atLatencyMilliseconds: [Double] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000, 150000]

    public init(upperBounds: [Double] = Histogram.atLatencyMilliseconds) {
        precondition(!upperBounds.isEmpty && zip(upperBounds, upperBounds.dropFirst()).allSatisfy { $0 < $1 })
        self.upperBounds = upperBounds
        self.counts = Array(repeating: 0, count: upperBounds.count)
    }

    public mutating func observe(_ value: Double) {
        self.count += 1
        self.sum += value
        if let i = self.upperBounds.firstIndex(where: { value <= $0 }) { self.counts[i] += 1 }
    }
}
