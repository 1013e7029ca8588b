/// A small streaming JSON writer, because the daemon does not link Foundation.
///
/// Used by `probe --json`, the stats socket and the CLI's `--json` output. It writes
/// compact JSON (one object per line suits line protocols and `jq` alike) and escapes
/// strings per RFC 8259 §7: quote, backslash and every control byte below 0x20.
/// Invalid UTF-8 cannot occur: input is a Swift `String`.
public struct JSONWriter {
    public private(set) var output: String = ""
    /// Whether the innermost open container already holds a member (so a comma is due).
    private var needsComma: [Bool] = []

    public init() {}

    public mutating func beginObject() { self.valuePrefix(); self.output += "{"; self.needsComma.append(false) }
    public mutating func endObject() { self.output += "}"; self.needsComma.removeLast() }
    public mutating func beginArray() { self.valuePrefix(); self.output += "["; self.needsComma.append(false) }
    public mutating func endArray() { self.output += "]"; self.needsComma.removeLast() }

    /// Writes `"key":`; the next value call supplies the value.
    public mutating func key(_ key: String) {
        if self.needsComma.last == true { self.output += "," }
        if !self.needsComma.isEmpty { self.needsComma[self.needsComma.count - 1] = true }
        Self.appendQuoted(key, to: &self.output)
        self.output += ":"
        self.pendingKey = true
    }

    public mutating func string(_ value: String) { self.valuePrefix(); Self.appendQuoted(value, to: &self.output) }
    public mutating func int<I: BinaryInteger>(_ value: I) { self.valuePrefix(); self.output += String(value) }
    public mutating func bool(_ value: Bool) { self.valuePrefix(); self.output += value ? "true" : "false" }
    public mutating func null() { self.valuePrefix(); self.output += "null" }

    /// A finite double; NaN and infinities have no JSON form and are written as `null`.
    public mutating func double(_ value: Double) {
        self.valuePrefix()
        self.output += value.isFinite ? String(value) : "null"
    }

    public mutating func field(_ key: String, _ value: String) { self.key(key); self.string(value) }
    public mutating func field(_ key: String, _ value: String?) {
        self.key(key)
        if let value { self.string(value) } else { self.null() }
    }
    public mutating func field<I: BinaryInteger>(_ key: String, _ value: I) { self.key(key); self.int(value) }
    public mutating func field<I: BinaryInteger>(_ key: String, _ value: I?) {
        self.key(key)
        if let value { self.int(value) } else { self.null() }
    }
    public mutating func field(_ key: String, _ value: Bool) { self.key(key); self.bool(value) }
    public mutating func field(_ key: String, _ value: Double) { self.key(key); self.double(value) }

    private var pendingKey = false

    /// Array elements need commas between them; an object member's comma was written by `key`.
    private mutating func valuePrefix() {
        if self.pendingKey { self.pendingKey = false; return }
        if self.needsComma.last == true { self.output += "," }
        if !self.needsComma.isEmpty { self.needsComma[self.needsComma.count - 1] = true }
    }

    static func appendQuoted(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
