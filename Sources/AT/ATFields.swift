/// Reads the comma-separated parameters of a response or URC line, such as
/// `+QIRD: 4,"10.7.76.34",7687`: after the `+NAME:` prefix (and its spaces), fields split at
/// commas outside double quotes. Numbers never trap: out-of-range text reads as nil.
public struct ATFields: Sendable {
    private let line: [UInt8]
    private var index: Int

    /// Starts after the first `:` of a `+` line (and the spaces after it), else at the start.
    public init(_ line: [UInt8]) {
        self.line = line
        self.index = 0
        if line.first == UInt8(ascii: "+"), let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            self.index = colon + 1
        }
        self.skipSpaces()
    }

    /// Starts at byte `offset` of `line`.
    public init(_ line: [UInt8], from offset: Int) {
        self.line = line
        self.index = min(max(0, offset), line.count)
        self.skipSpaces()
    }

    public var isAtEnd: Bool { self.index >= self.line.count }

    private mutating func skipSpaces() {
        while self.index < self.line.count, self.line[self.index] == 0x20 { self.index += 1 }
    }

    /// The next field's raw bytes (quotes removed), advancing past its comma.
    public mutating func next() -> ArraySlice<UInt8>? {
        guard self.index <= self.line.count else { return nil }
        if self.index == self.line.count {
            self.index += 1   // an empty last field after a trailing comma is still a field
            return self.line.count > 0 && self.line.last == UInt8(ascii: ",") ? [] : nil
        }
        self.skipSpaces()
        let field: ArraySlice<UInt8>
        if self.index < self.line.count, self.line[self.index] == UInt8(ascii: "\"") {
            let start = self.index + 1
            var end = start
            while end < self.line.count, self.line[end] != UInt8(ascii: "\"") { end += 1 }
            field = self.line[start..<end]
            self.index = min(end + 1, self.line.count)
            while self.index < self.line.count, self.line[self.index] != UInt8(ascii: ",") { self.index += 1 }
        } else {
            let start = self.index
            var end = start
            while end < self.line.count, self.line[end] != UInt8(ascii: ",") { end += 1 }
            var trimmed = end
            while trimmed > start, self.line[trimmed - 1] == 0x20 { trimmed -= 1 }
            field = self.line[start..<trimmed]
            self.index = end
        }
        if self.index < self.line.count {
            self.index += 1   // the comma
            if self.index == self.line.count { self.index = self.line.count } // trailing comma
        } else {
            self.index = self.line.count + 1
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
