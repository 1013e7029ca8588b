/// A DNS query as a stub resolver sends it: one question, perhaps an EDNS OPT record.
public struct DNSQuery: Hashable, Sendable {
    public var header: DNSHeader
    public var question: DNSQuestion
    /// The EDNS(0) OPT record, when the client sent one (RFC 6891 §6).
    public var edns: EDNS?

    public struct EDNS: Hashable, Sendable {
        /// The largest response the client can take over UDP.
        public var udpPayloadSize: Int
        public var version: UInt8
        /// "DNSSEC OK": never acted on, since the modem returns no signatures.
        public var dnssecOK: Bool
    }

    /// Parses a query. Throws `.truncated` when a count or length runs past the end,
    /// `.malformed` for a response, a question count other than 1 (RFC 9619), a bad name
    /// or a second OPT record, and `.unsupported` for an opcode other than QUERY (0).
    ///
    /// Callers answer `.malformed` with FORMERR and `.unsupported` with NOTIMP, using the
    /// header (`DNSHeader(parsing:)`) when it could be read; responses are never answered.
    public static func parse(_ message: UnsafeRawBufferPointer) throws(WireError) -> DNSQuery {
        let header = try DNSHeader(parsing: message)
        guard !header.isResponse else { throw .malformed }
        guard header.opcode == 0 else { throw .unsupported }
        guard header.questionCount == 1 else { throw .malformed }
        let (name, afterName) = try DNSName.parse(message, at: DNSHeader.length)
        guard afterName + 4 <= message.count else { throw .truncated }
        let question = DNSQuestion(
            name: name, type: DNSRecordType(rawValue: message.readUInt16(at: afterName)),
            class: DNSClass(rawValue: message.readUInt16(at: afterName + 2)))

        // Walk whatever records follow, to find OPT and to refuse garbage. Each record
        // takes at least 11 bytes, so the walk is bounded by the message length.
        var offset = afterName + 4
        var edns: EDNS?
        let records = header.answerCount + header.authorityCount + header.additionalCount
        for index in 0..<records {
            let (owner, afterOwner) = try DNSName.parse(message, at: offset)
            guard afterOwner + 10 <= message.count else { throw .truncated }
            let type = DNSRecordType(rawValue: message.readUInt16(at: afterOwner))
            let rdLength = Int(message.readUInt16(at: afterOwner + 8))
            let next = afterOwner + 10 + rdLength
            guard next <= message.count else { throw .truncated }
            let inAdditional = index >= header.answerCount + header.authorityCount
            if type == .opt {
                // RFC 6891 §6.1.1: one OPT, owned by the root, in the additional section.
                guard inAdditional, edns == nil, owner == .root else { throw .malformed }
                let ttl = message.readUInt32(at: afterOwner + 4)
                edns = EDNS(
                    // §6.2.5: values below 512 are treated as 512.
                    udpPayloadSize: max(512, Int(message.readUInt16(at: afterOwner + 2))),
                    version: UInt8(truncatingIfNeeded: ttl >> 16),
                    dnssecOK: ttl & 0x8000 != 0)
            }
            offset = next
        }
        return DNSQuery(header: header, question: question, edns: edns)
    }
}
