/// A domain name, held uncompressed in wire form: length-prefixed labels ending in the
/// empty root label (RFC 1035 §3.1).
///
/// Equality is byte-exact, so the question echoed in a response keeps the case the client
/// sent (resolvers check it: "0x20" randomisation); `lowercased()` gives the key for
/// a cache, since DNS names compare without case (RFC 4343).
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// Wire form, e.g. `07 example 03 com 00`.
    public private(set) var wire: [UInt8]

    /// RFC 1035 §2.3.4.
    public static let maximumLabelLength = 63
    public static let maximumLength = 255
    /// Compression pointers followed while reading one name. Each must point strictly
    /// backwards, which already rules out loops; the bound keeps the work small too.
    static let maximumPointers = 32

    public static let root = DNSName(wire: [0])

    private init(wire: [UInt8]) { self.wire = wire }

    /// A name from dotted text ("example.com", trailing dot optional); nil when a label is
    /// empty or too long, or the name too long. No escapes: this is for hostnames.
    public init?(_ text: some StringProtocol) {
        var wire: [UInt8] = []
        var labels = text.split(separator: ".", omittingEmptySubsequences: false)
        if labels.last?.isEmpty == true { labels.removeLast() }
        if labels == [""] { labels = [] }
        for label in labels {
            let bytes = Array(label.utf8)
            guard !bytes.isEmpty, bytes.count <= Self.maximumLabelLength else { return nil }
            wire.append(UInt8(bytes.count))
            wire += bytes
        }
        wire.append(0)
        guard wire.count <= Self.maximumLength else { return nil }
        self.wire = wire
    }

    /// Reads a possibly compressed name starting at `offset` of `message`.
    ///
    /// Returns the name and the offset just past it at its original position (after the
    /// first pointer, if any). Throws `.truncated` when the name runs off the message and
    /// `.malformed` for a label type other than 00/11 (RFC 6891 §5 retired the others), a
    /// pointer that does not point strictly backwards, or a name over 255 bytes.
    public static func parse(
        _ message: UnsafeRawBufferPointer, at offset: Int
    ) throws(WireError) -> (name: DNSName, end: Int) {
        var wire: [UInt8] = []
        var position = offset
        var end: Int?
        var pointers = 0
        while true {
            guard position < message.count else { throw .truncated }
            let length = message[position]
            switch length >> 6 {
            case 0b00:
                let count = Int(length)
                guard position + 1 + count <= message.count else { throw .truncated }
                guard wire.count + 1 + count <= Self.maximumLength else { throw .malformed }
                wire.append(length)
                if count == 0 {
                    return (DNSName(wire: wire), end ?? position + 1)
                }
                wire += message.slice((position + 1)..<(position + 1 + count))
                position += 1 + count
            case 0b11:
                guard position + 2 <= message.count else { throw .truncated }
                let target = Int(message.readUInt16(at: position) & 0x3FFF)
                // Strictly backwards: a pointer can never reach itself or a later pointer
                // that leads back to it (RFC 9267 §2 lists loops among parser bugs).
                guard target < position else { throw .malformed }
                pointers += 1
                guard pointers <= Self.maximumPointers else { throw .malformed }
                if end == nil { end = position + 2 }
                position = target
            default:
                throw .malformed
            }
        }
    }

    /// The labels, without the root.
    public var labels: [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var i = 0
        while i < self.wire.count, self.wire[i] != 0 {
            let n = Int(self.wire[i])
            result.append(self.wire[(i + 1)..<min(i + 1 + n, self.wire.count)])
            i += 1 + n
        }
        return result
    }

    /// The same name with ASCII letters in lower case: the key to compare or cache by.
    public func lowercased() -> DNSName {
        DNSName(wire: self.wire.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 })
    }

    /// True when every label is letters, digits, hyphens and underscores (RFC 952/1123
    /// host names, plus the underscore SRV-style names use): text that can be handed to a
    /// modem's resolver command without quoting trouble.
    public var isHostname: Bool {
        let labels = self.labels
        return !labels.isEmpty && labels.allSatisfy { label in
            label.allSatisfy { b in
                (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
                    || b == 0x2D || b == 0x5F
            }
        }
    }

    /// Dotted text; bytes other than printable ASCII, and dots or backslashes inside a
    /// label, are escaped as `\DDD` (RFC 4343 §2.1) so the text is never ambiguous.
    public var description: String {
        let labels = self.labels
        if labels.isEmpty { return "." }
        return labels.map { label in
            var s = ""
            for b in label {
                if b > 0x20, b < 0x7F, b != 0x2E, b != 0x5C {
                    s.unicodeScalars.append(Unicode.Scalar(b))
                } else {
                    let d = String(b)
                    s += "\\" + String(repeating: "0", count: 3 - d.count) + d
                }
            }
            return s
        }.joined(separator: ".")
    }
}
