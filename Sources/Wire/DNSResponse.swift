/// A DNS response the daemon builds: the question echoed, address answers or an error code.
public struct DNSResponse: Hashable, Sendable {
    /// One A or AAAA record for the question's name; the type follows the address family.
    public struct Answer: Hashable, Sendable {
        public var address: IPAddress
        public var ttl: UInt32
        public init(address: IPAddress, ttl: UInt32) {
            self.address = address
            self.ttl = ttl
        }
    }

    public var id: UInt16
    /// Echoed from the query; nil in a FORMERR for a query whose question could not be read.
    public var question: DNSQuestion?
    public var recursionDesired: Bool
    public var checkingDisabled: Bool
    public var responseCode: DNSResponseCode
    public var answers: [Answer]
    /// When the query carried OPT, the response does too (RFC 6891 §7), advertising
    /// `ednsPayloadSize`.
    public var includeEDNS: Bool
    /// The longest response allowed: 512 without EDNS (RFC 1035 §4.2.1), else the client's
    /// size; answers that do not fit are left out and TC set.
    public var maximumLength: Int

    /// What this daemon advertises: RFC 9715 / DNS flag day 2020's safe size.
    public static let ednsPayloadSize = 1232

    public init(
        id: UInt16, question: DNSQuestion?, responseCode: DNSResponseCode,
        answers: [Answer] = [], recursionDesired: Bool = true, checkingDisabled: Bool = false,
        includeEDNS: Bool = false, maximumLength: Int = 512
    ) {
        self.id = id
        self.question = question
        self.responseCode = responseCode
        self.answers = answers
        self.recursionDesired = recursionDesired
        self.checkingDisabled = checkingDisabled
        self.includeEDNS = includeEDNS
        self.maximumLength = maximumLength
    }

    /// A response to `query`: the same id, question, RD and CD bits, and EDNS if it had it.
    public init(answering query: DNSQuery, responseCode: DNSResponseCode, answers: [Answer] = []) {
        self.init(
            id: query.header.id, question: query.question, responseCode: responseCode,
            answers: answers, recursionDesired: query.header.recursionDesired,
            checkingDisabled: query.header.checkingDisabled, includeEDNS: query.edns != nil,
            maximumLength: min(query.edns?.udpPayloadSize ?? 512, Self.ednsPayloadSize))
    }

    /// An error response to a message of which only the header could be read.
    public init(rejecting header: DNSHeader, responseCode: DNSResponseCode) {
        self.init(id: header.id, question: nil, responseCode: responseCode,
                  recursionDesired: header.recursionDesired, checkingDisabled: header.checkingDisabled)
    }

    // MARK: Layout

    private var questionLength: Int { self.question.map { $0.name.wire.count + 4 } ?? 0 }
    private static let optLength = 11
    /// Owner pointer (2), type, class, TTL, RDLENGTH (10), address.
    private static func answerLength(_ answer: Answer) -> Int { 12 + answer.address.byteCount }

    /// Answers that fit within `maximumLength` (only with a question to point at).
    private var fittingAnswers: Int {
        guard self.question != nil else { return 0 }
        var length = DNSHeader.length + self.questionLength + (self.includeEDNS ? Self.optLength : 0)
        var count = 0
        for answer in self.answers {
            length += Self.answerLength(answer)
            guard length <= self.maximumLength else { break }
            count += 1
        }
        return count
    }

    /// The bytes `emit(into:)` writes.
    public var bufferLength: Int {
        DNSHeader.length + self.questionLength
            + self.answers.prefix(self.fittingAnswers).reduce(0) { $0 + Self.answerLength($1) }
            + (self.includeEDNS ? Self.optLength : 0)
    }

    /// True when some answers were left out for size.
    public var isTruncated: Bool { self.fittingAnswers < self.answers.count && self.question != nil }

    /// Writes the message into the start of `buffer` (at least `bufferLength` bytes).
    public func emit(into buffer: UnsafeMutableRawBufferPointer) {
        let length = self.bufferLength
        precondition(buffer.count >= length, "DNS buffer too small")
        let b = buffer.slice(0..<length)
        let answers = self.answers.prefix(self.fittingAnswers)
        b.write(self.id, at: 0)
        // QR, opcode QUERY, not authoritative, RA: the modem's resolver recurses for us.
        var flags: UInt16 = 0x8000 | 0x0080 | UInt16(self.responseCode.rawValue)
        if self.recursionDesired { flags |= 0x0100 }
        if self.checkingDisabled { flags |= 0x0010 }
        if self.isTruncated { flags |= 0x0200 }
        b.write(flags, at: 2)
        b.write(self.question == nil ? 0 : 1 as UInt16, at: 4)
        b.write(UInt16(answers.count), at: 6)
        b.write(0 as UInt16, at: 8)
        b.write(self.includeEDNS ? 1 : 0 as UInt16, at: 10)
        var i = DNSHeader.length
        if let q = self.question {
            for byte in q.name.wire { b[i] = byte; i += 1 }
            b.write(q.type.rawValue, at: i)
            b.write(q.class.rawValue, at: i + 2)
            i += 4
        }
        for answer in answers {
            // RFC 1035 §4.1.4: a pointer to the question's name, right after the header.
            b.write(0xC000 | UInt16(DNSHeader.length), at: i)
            let type: DNSRecordType = if case .v4 = answer.address { .a } else { .aaaa }
            b.write(type.rawValue, at: i + 2)
            b.write(DNSClass.internet.rawValue, at: i + 4)
            b.write(answer.ttl, at: i + 6)
            b.write(UInt16(answer.address.byteCount), at: i + 10)
            i += 12
            switch answer.address {
            case .v4(let a): a.write(into: b, at: i)
            case .v6(let a): a.write(into: b, at: i)
            }
            i += answer.address.byteCount
        }
        if self.includeEDNS {
            b[i] = 0  // root owner
            b.write(DNSRecordType.opt.rawValue, at: i + 1)
            b.write(UInt16(Self.ednsPayloadSize), at: i + 3)
            b.write(0 as UInt32, at: i + 5)  // extended RCODE 0, version 0, no DO
            b.write(0 as UInt16, at: i + 9)
        }
    }

    /// The message as a fresh array (tests; the hot path emits in place).
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: self.bufferLength)
        out.withUnsafeMutableBytes { self.emit(into: $0) }
        return out
    }
}
