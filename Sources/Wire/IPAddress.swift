/// An IPv4 or IPv6 address: what a flow's endpoints and the DNS answers are.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    /// Parses dotted-quad IPv4 or RFC 4291 §2.2 text IPv6; `nil` for anything else.
    public init?(_ text: some StringProtocol) {
        if let v4 = IPv4Address(text) {
            self = .v4(v4)
        } else if let v6 = IPv6Address(text) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .v4(let a): a.description
        case .v6(let a): a.description
        }
    }

    /// The size of the address in bytes: 4 or 16.
    public var byteCount: Int {
        switch self {
        case .v4: 4
        case .v6: 16
        }
    }

    func addTo(_ checksum: inout Checksum) {
        switch self {
        case .v4(let a):
            checksum.add(a.rawValue)
        case .v6(let a):
            checksum.add(UInt32(truncatingIfNeeded: a.high >> 32))
            checksum.add(UInt32(truncatingIfNeeded: a.high))
            checksum.add(UInt32(truncatingIfNeeded: a.low >> 32))
            checksum.add(UInt32(truncatingIfNeeded: a.low))
        }
    }
}

/// A 32-bit IPv4 address, held in host order.
public struct IPv4Address: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        self.rawValue = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    public static let any = IPv4Address(rawValue: 0)

    /// Parses exactly four decimal octets separated by dots ("192.0.2.1").
    public init?(_ text: some StringProtocol) {
        var value: UInt32 = 0
        var octets = 0
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard part.count >= 1, part.count <= 3, let octet = UInt8(part) else { return nil }
            value = value << 8 | UInt32(octet)
            octets += 1
        }
        guard octets == 4 else { return nil }
        self.rawValue = value
    }

    init(reading bytes: UnsafeRawBufferPointer, at offset: Int) {
        self.rawValue = bytes.readUInt32(at: offset)
    }

    func write(into bytes: UnsafeMutableRawBufferPointer, at offset: Int) {
        bytes.write(self.rawValue, at: offset)
    }

    /// The four bytes in network order.
    public var bytes: [UInt8] {
        [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: self.rawValue >> $0) }
    }

    public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        self.bytes.map { String($0) }.joined(separator: ".")
    }
}

/// A 128-bit IPv6 address, held as two host-order halves.
public struct IPv6Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The address made of eight 16-bit groups, as written in text.
    public init(groups: [UInt16]) {
        precondition(groups.count == 8, "an IPv6 address has eight groups")
        var high: UInt64 = 0
        var low: UInt64 = 0
        for g in groups[0..<4] { high = high << 16 | UInt64(g) }
        for g in groups[4..<8] { low = low << 16 | UInt64(g) }
        self.init(high: high, low: low)
    }

    public static let any = IPv6Address(high: 0, low: 0)
    public static let loopback = IPv6Address(high: 0, low: 1)

    /// The eight 16-bit groups.
    public var groups: [UInt16] {
        [48, 32, 16, 0].map { UInt16(truncatingIfNeeded: self.high >> $0) }
            + [48, 32, 16, 0].map { UInt16(truncatingIfNeeded: self.low >> $0) }
    }

    /// The sixteen bytes in network order.
    public var bytes: [UInt8] {
        self.groups.flatMap { [UInt8(truncatingIfNeeded: $0 >> 8), UInt8(truncatingIfNeeded: $0)] }
    }

    init(reading bytes: UnsafeRawBufferPointer, at offset: Int) {
        let high = UInt64(bytes.readUInt32(at: offset)) << 32 | UInt64(bytes.readUInt32(at: offset + 4))
        let low = UInt64(bytes.readUInt32(at: offset + 8)) << 32 | UInt64(bytes.readUInt32(at: offset + 12))
        self.init(high: high, low: low)
    }

    func write(into bytes: UnsafeMutableRawBufferPointer, at offset: Int) {
        bytes.write(UInt32(truncatingIfNeeded: self.high >> 32), at: offset)
        bytes.write(UInt32(truncatingIfNeeded: self.high), at: offset + 4)
        bytes.write(UInt32(truncatingIfNeeded: self.low >> 32), at: offset + 8)
        bytes.write(UInt32(truncatingIfNeeded: self.low), at: offset + 12)
    }

    /// Parses RFC 4291 §2.2 text: hex groups, at most one "::", and an optional dotted-quad
    /// tail ("::ffff:192.0.2.1"). Zone identifiers are not addresses and are refused.
    public init?(_ text: some StringProtocol) {
        let text = String(text)
        guard text.utf8.count <= 45, text.contains(":") else { return nil }
        let halves = text.components(separatedByDoubleColon: ())
        guard let halves, halves.count <= 2 else { return nil }
        func groups(_ part: Substring, allowIPv4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (i, piece) in pieces.enumerated() {
                if allowIPv4Tail, i == pieces.count - 1, piece.contains("."),
                   let v4 = IPv4Address(piece)
                {
                    result.append(UInt16(truncatingIfNeeded: v4.rawValue >> 16))
                    result.append(UInt16(truncatingIfNeeded: v4.rawValue))
                    continue
                }
                guard piece.count >= 1, piece.count <= 4, let g = UInt16(piece, radix: 16) else { return nil }
                result.append(g)
            }
            return result
        }
        if halves.count == 1 {
            guard let all = groups(halves[0], allowIPv4Tail: true), all.count == 8 else { return nil }
            self.init(groups: all)
        } else {
            guard let head = groups(halves[0], allowIPv4Tail: false),
                  let tail = groups(halves[1], allowIPv4Tail: true),
                  head.count + tail.count <= 7
            else { return nil }
            self.init(groups: head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail)
        }
    }

    public static func < (a: IPv6Address, b: IPv6Address) -> Bool {
        (a.high, a.low) < (b.high, b.low)
    }

    /// RFC 5952 text: lower-case hex, leading zeros dropped, the longest run of two or more
    /// zero groups (the first if tied) written "::".
    public var description: String {
        let g = self.groups
        var bestStart = -1, bestLength = 0, runStart = -1
        for i in 0...8 {
            if i < 8, g[i] == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength { bestStart = runStart; bestLength = i - runStart }
                runStart = -1
            }
        }
        func hex(_ range: Range<Int>) -> String {
            g[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        guard bestLength >= 2 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}

extension String {
    /// Splits at "::"; nil when "::" appears more than once or ":::" appears.
    fileprivate func components(separatedByDoubleColon _: ()) -> [Substring]? {
        guard !self.contains(":::") else { return nil }
        var parts: [Substring] = []
        var rest = self[...]
        while let r = rest.firstRange(of: "::") {
            parts.append(rest[..<r.lowerBound])
            rest = rest[r.upperBound...]
        }
        parts.append(rest)
        return parts.count <= 2 ? parts : nil
    }
}
