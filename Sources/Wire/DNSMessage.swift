/// A DNS record type (IANA "Resource Record (RR) TYPEs").
public struct DNSRecordType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = DNSRecordType(rawValue: 1)
    public static let ns = DNSRecordType(rawValue: 2)
    public static let cname = DNSRecordType(rawValue: 5)
    public static let soa = DNSRecordType(rawValue: 6)
    public static let ptr = DNSRecordType(rawValue: 12)
    public static let mx = DNSRecordType(rawValue: 15)
    public static let txt = DNSRecordType(rawValue: 16)
    public static let aaaa = DNSRecordType(rawValue: 28)
    public static let opt = DNSRecordType(rawValue: 41)
    public static let https = DNSRecordType(rawValue: 65)
    public static let any = DNSRecordType(rawValue: 255)

    public var description: String {
        switch self {
        case .a: "A"
        case .ns: "NS"
        case .cname: "CNAME"
        case .soa: "SOA"
        case .ptr: "PTR"
        case .mx: "MX"
        case .txt: "TXT"
        case .aaaa: "AAAA"
        case .opt: "OPT"
        case .https: "HTTPS"
        case .any: "ANY"
        default: "TYPE\(self.rawValue)"
        }
    }
}

/// A DNS class; only IN is answered.
public struct DNSClass: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let internet = DNSClass(rawValue: 1)
    public static let chaos = DNSClass(rawValue: 3)
    public static let any = DNSClass(rawValue: 255)
}

/// RFC 1035 §4.1.1 RCODE values the daemon sends.
public enum DNSResponseCode: UInt8, Hashable, Sendable {
    case noError = 0
    /// The query could not be interpreted.
    case formatError = 1
    /// The resolver failed (the modem's lookup errored or timed out).
    case serverFailure = 2
    /// The name does not exist.
    case nameError = 3
    /// The kind of query is not implemented (an opcode other than QUERY).
    case notImplemented = 4
    case refused = 5
}

/// The fixed 12-byte header of every DNS message (RFC 1035 §4.1.1).
public struct DNSHeader: Hashable, Sendable {
    public var id: UInt16
    public var isResponse: Bool
    public var opcode: UInt8
    public var authoritative: Bool
    public var truncated: Bool
    public var recursionDesired: Bool
    public var recursionAvailable: Bool
    public var authenticData: Bool
    public var checkingDisabled: Bool
    public var responseCode: UInt8
    public var questionCount: Int
    public var answerCount: Int
    public var authorityCount: Int
    public var additionalCount: Int

    public static let length = 12

    public init(parsing message: UnsafeRawBufferPointer) throws(WireError) {
        guard message.count >= Self.length else { throw .truncated }
        self.id = message.readUInt16(at: 0)
        let flags = message.readUInt16(at: 2)
        self.isResponse = flags & 0x8000 != 0
        self.opcode = UInt8(truncatingIfNeeded: (flags >> 11) & 0x0F)
        self.authoritative = flags & 0x0400 != 0
        self.truncated = flags & 0x0200 != 0
        self.recursionDesired = flags & 0x0100 != 0
        self.recursionAvailable = flags & 0x0080 != 0
        self.authenticData = flags & 0x0020 != 0
        self.checkingDisabled = flags & 0x0010 != 0
        self.responseCode = UInt8(truncatingIfNeeded: flags & 0x0F)
        self.questionCount = Int(message.readUInt16(at: 4))
        self.answerCount = Int(message.readUInt16(at: 6))
        self.authorityCount = Int(message.readUInt16(at: 8))
        self.additionalCount = Int(message.readUInt16(at: 10))
    }
}

/// One question (RFC 1035 §4.1.2).
public struct DNSQuestion: Hashable, Sendable {
    public var name: DNSName
    public var type: DNSRecordType
    public var `class`: DNSClass

    public init(name: DNSName, type: DNSRecordType, class cls: DNSClass = .internet) {
        self.name = name
        self.type = type
        self.class = cls
    }
}
