/// A parsed JSON document, for the CLI that reads the stats socket's replies (the daemon
/// binary has no Foundation) and for tests that check every reply is valid JSON.
///
/// Strict RFC 8259: one value, optional whitespace around it, no trailing commas, no
/// comments, no leading zeros, escapes checked (surrogate pairs joined). Numbers keep their
/// text, so a 64-bit counter loses no digits; nesting is limited to `maxDepth`.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's text as written, e.g. `18446744073709551615` or `0.25`.
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in document order (duplicate keys are refused).
    case object([(String, JSONValue)])

    public static let maxDepth = 64

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let offset: Int
        public let reason: String
        public var description: String { "invalid JSON at byte \(self.offset): \(self.reason)" }
    }

    public static func parse(_ text: String) throws(ParseError) -> JSONValue {
        var parser = JSONParser(Array(text.utf8))
        return try parser.document()
    }

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.number(let x), .number(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// The member `key` of an object; nil for other values or a missing key.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var members: [(String, JSONValue)]? { if case .object(let m) = self { m } else { nil } }
    public var isNull: Bool { self == .null }
    public var uint64: UInt64? { if case .number(let n) = self { UInt64(n) } else { nil } }
    public var int: Int? { if case .number(let n) = self { Int(n) } else { nil } }
    public var double: Double? { if case .number(let n) = self { Double(n) } else { nil } }
}

struct JSONParser {
    private let bytes: [UInt8]
    private var i = 0
    private var depth = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func document() throws(JSONValue.ParseError) -> JSONValue {
        self.skipSpace()
        let v = try self.value()
        self.skipSpace()
        guard self.i == self.bytes.count else { throw self.error("unexpected text after the value") }
        return v
    }

    private func error(_ reason: String) -> JSONValue.ParseError { .init(offset: self.i, reason: reason) }

    private var peek: UInt8? { self.i < self.bytes.count ? self.bytes[self.i] : nil }

    private mutating func skipSpace() {
        while let b = self.peek, b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { self.i += 1 }
    }

    private mutating func expect(_ literal: String, _ v: JSONValue) throws(JSONValue.ParseError) -> JSONValue {
        let l = Array(literal.utf8)
        guard self.i + l.count <= self.bytes.count, Array(self.bytes[self.i..<self.i + l.count]) == l else {
            throw self.error("expected \(literal)")
        }
        self.i += l.count
        return v
    }

    private mutating func value() throws(JSONValue.ParseError) -> JSONValue {
        guard let b = self.peek else { throw self.error("unexpected end") }
        switch b {
        case UInt8(ascii: "n"): return try self.expect("null", .null)
        case UInt8(ascii: "t"): return try self.expect("true", .bool(true))
        case UInt8(ascii: "f"): return try self.expect("false", .bool(false))
        case UInt8(ascii: "\""): return .string(try self.string())
        case UInt8(ascii: "["): return try self.array()
        case UInt8(ascii: "{"): return try self.object()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try self.number()
        default: throw self.error("unexpected byte 0x\(String(b, radix: 16))")
        }
    }

    private mutating func nest() throws(JSONValue.ParseError) {
        self.depth += 1
        guard self.depth <= JSONValue.maxDepth else { throw self.error("nested deeper than \(JSONValue.maxDepth)") }
    }

    private mutating func array() throws(JSONValue.ParseError) -> JSONValue {
        try self.nest()
        self.i += 1
        var items: [JSONValue] = []
        self.skipSpace()
        if self.peek == UInt8(ascii: "]") { self.i += 1; self.depth -= 1; return .array(items) }
        while true {
            self.skipSpace()
            items.append(try self.value())
            self.skipSpace()
            switch self.peek {
            case UInt8(ascii: ","): self.i += 1
            case UInt8(ascii: "]"): self.i += 1; self.depth -= 1; return .array(items)
            default: throw self.error("expected , or ]")
            }
        }
    }

    private mutating func object() throws(JSONValue.ParseError) -> JSONValue {
        try self.nest()
        self.i += 1
        var members: [(String, JSONValue)] = []
        self.skipSpace()
        if self.peek == UInt8(ascii: "}") { self.i += 1; self.depth -= 1; return .object(members) }
        while true {
            self.skipSpace()
            guard self.peek == UInt8(ascii: "\"") else { throw self.error("expected a member name") }
            let key = try self.string()
            guard !members.contains(where: { $0.0 == key }) else { throw self.error("duplicate key \"\(key)\"") }
            self.skipSpace()
            guard self.peek == UInt8(ascii: ":") else { throw self.error("expected :") }
            self.i += 1
            self.skipSpace()
            members.append((key, try self.value()))
            self.skipSpace()
            switch self.peek {
            case UInt8(ascii: ","): self.i += 1
            case UInt8(ascii: "}"): self.i += 1; self.depth -= 1; return .object(members)
            default: throw self.error("expected , or }")
            }
        }
    }

    private mutating func number() throws(JSONValue.ParseError) -> JSONValue {
        let start = self.i
        func isDigit(_ b: UInt8?) -> Bool { b.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
        if self.peek == UInt8(ascii: "-") { self.i += 1 }
        if self.peek == UInt8(ascii: "0") {
            self.i += 1
            if isDigit(self.peek) { throw self.error("leading zero") }
        } else {
            guard isDigit(self.peek) else { throw self.error("expected a digit") }
            while isDigit(self.peek) { self.i += 1 }
        }
        if self.peek == UInt8(ascii: ".") {
            self.i += 1
            guard isDigit(self.peek) else { throw self.error("expected a digit after .") }
            while isDigit(self.peek) { self.i += 1 }
        }
        if self.peek == UInt8(ascii: "e") || self.peek == UInt8(ascii: "E") {
            self.i += 1
            if self.peek == UInt8(ascii: "+") || self.peek == UInt8(ascii: "-") { self.i += 1 }
            guard isDigit(self.peek) else { throw self.error("expected a digit in the exponent") }
            while isDigit(self.peek) { self.i += 1 }
        }
        return .number(String(decoding: self.bytes[start..<self.i], as: UTF8.self))
    }

    private mutating func hex4() throws(JSONValue.ParseError) -> UInt32 {
        guard self.i + 4 <= self.bytes.count else { throw self.error("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = self.bytes[self.i]
            let d: UInt32
            switch b {
            case 0x30...0x39: d = UInt32(b - 0x30)
            case 0x41...0x46: d = UInt32(b - 0x41 + 10)
            case 0x61...0x66: d = UInt32(b - 0x61 + 10)
            default: throw self.error("bad hex digit in \\u escape")
            }
            v = v << 4 | d
            self.i += 1
        }
        return v
    }

    private mutating func string() throws(JSONValue.ParseError) -> String {
        self.i += 1   // the opening quote
        var out: [UInt8] = []
        while true {
            guard let b = self.peek else { throw self.error("unterminated string") }
            self.i += 1
            switch b {
            case UInt8(ascii: "\""):
                // Invalid UTF-8 would be repaired silently by String(decoding:); refuse it instead.
                guard let s = String(validating: out, as: UTF8.self) else { throw self.error("string is not UTF-8") }
                return s
            case UInt8(ascii: "\\"):
                guard let e = self.peek else { throw self.error("unterminated escape") }
                self.i += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try self.hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard self.peek == UInt8(ascii: "\\"), self.i + 1 < self.bytes.count, self.bytes[self.i + 1] == UInt8(ascii: "u") else {
                            throw self.error("lone high surrogate")
                        }
                        self.i += 2
                        let low = try self.hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw self.error("bad low surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw self.error("lone low surrogate")
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw self.error("bad \\u escape") }
                    out.append(contentsOf: String(Character(u)).utf8)
                default: throw self.error("unknown escape")
                }
            case 0x00..<0x20: throw self.error("control byte in string")
            default: out.append(b)
            }
        }
    }
}
