/// Reads the comma-separated parameters of a response or URC line, such as
/// `+QIRD: 4,"10.7.76.34",7687`: after the `+NAME:` prefix (and its spaces), fields split at
/// commas outside double quotes. Numbers never trap: out-of-range text reads as nil.
public struct ATFields: Sendable {
    private let line: [UInt8]
    private var index: Int
    /// Set once the last field has been returned.
    private var finished: Bool

    /// Starts after the first `:` of a `+` line (and the spaces after it), else at the start.
    public init(_ line: [UInt8]) {
        var start = 0
        if line.first == UInt8(ascii: "+"), let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            start = colon + 1
        }
        self.init(line, from: start)
    }

    /// Starts at byte `offset` of `line`.
    public init(_ line: [UInt8], from offset: Int) {
        self.line = line
        self.index = min(max(0, offset), line.count)
        while self.index < line.count, line[self.index] == 0x20 { self.index += 1 }
        // Nothing after the prefix: no fields at all.
        self.finished = self.index >= line.count
    }

    public var isAtEnd: Bool { self.finished }

    /// The next field's bytes (surrounding quotes and spaces removed), or nil after the last.
    /// `a,,b` has three fields, the middle one empty; a trailing comma ends in an empty field.
    public mutating func next() -> ArraySlice<UInt8>? {
        guard !self.finished else { return nil }
        while self.index < self.line.count, self.line[self.index] == 0x20 { self.index += 1 }
        var end = self.index
        var field: ArraySlice<UInt8>
        if end < self.line.count, self.line[end] == UInt8(ascii: "\"") {
            // Quoted: up to the closing quote; commas inside belong to the field.
            let start = end + 1
            end = start
            while end < self.line.count, self.line[end] != UInt8(ascii: "\"") { end += 1 }
            field = self.line[start..<end]
            while end < self.line.count, self.line[end] != UInt8(ascii: ",") { end += 1 }
        } else {
            while end < self.line.count, self.line[end] != UInt8(ascii: ",") { end += 1 }
            field = self.line[self.index..<end]
            while let last = field.last, last == 0x20 { field = field.dropLast() }
        }
        if end < self.line.count {
            self.index = end + 1   // past the comma; a field (maybe empty) follows
        } else {
            self.index = end
            self.finished = true
        }
        return field
    }

    /// The next field as a decimal integer (optional sign), nil if it is not one.
    public mutating func int() -> Int? {
        guard let f = self.next() else { return nil }
        return ATFields.parseInt(f)
    }

    /// The next field as text.
    public mutating func string() -> String? {
        guard let f = self.next() else { return nil }
        return String(decoding: f, as: UTF8.self)
    }

    /// Decimal digits with an optional sign, at most 18 digits so the value cannot overflow.
    public static func parseInt<C: Collection>(_ bytes: C) -> Int? where C.Element == UInt8 {
        var value = 0
        var negative = false
        var digits = 0
        for (i, b) in bytes.enumerated() {
            if i == 0 && (b == UInt8(ascii: "-") || b == UInt8(ascii: "+")) {
                negative = b == UInt8(ascii: "-")
                continue
            }
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9"), digits < 18 else { return nil }
            value = value * 10 + Int(b - UInt8(ascii: "0"))
            digits += 1
        }
        guard digits > 0 else { return nil }
        return negative ? -value : value
    }
}

extension Array where Element == UInt8 {
    /// True when the line starts with the UTF-8 bytes of `prefix`.
    public func hasPrefix(_ prefix: StaticString) -> Bool {
        prefix.withUTF8Buffer { self.starts(with: $0) }
    }
}

extension ArraySlice where Element == UInt8 {
    public func hasPrefix(_ prefix: StaticString) -> Bool {
        prefix.withUTF8Buffer { self.starts(with: $0) }
    }
}
