// fuzz-modules: Wire Buffers
//
// Input: a DNS message. Names are read at every offset (compression loops, limits); a
// query that parses gets a response, which must parse back with the same id and name.
import Wire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDNS(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let message = UnsafeRawBufferPointer(start: data, count: size)
    for offset in 0..<min(size, 64) {
        if let (name, end) = try? DNSName.parse(message, at: offset) {
            precondition(name.wire.count <= 255 && end > offset && end <= size)
            _ = (name.description, name.isHostname, name.lowercased())
        }
    }
    guard let query = try? DNSQuery.parse(message) else {
        if let header = try? DNSHeader(parsing: message) {
            let reject = DNSResponse(rejecting: header, responseCode: .formatError).bytes
            precondition(reject.count == 12)
        }
        return 0
    }
    let answers = (0..<Int(size % 50)).map { i in
        DNSResponse.Answer(address: i % 2 == 0 ? .v4(IPv4Address(rawValue: UInt32(i)))
                                               : .v6(IPv6Address(high: 0, low: UInt64(i))), ttl: 60)
    }
    let response = DNSResponse(answering: query, responseCode: .noError, answers: answers)
    let bytes = response.bytes
    precondition(bytes.count == response.bufferLength && bytes.count <= max(512, query.edns?.udpPayloadSize ?? 512))
    bytes.withUnsafeBytes { raw in
        guard let header = try? DNSHeader(parsing: raw),
              let (name, _) = try? DNSName.parse(raw, at: 12) else {
            preconditionFailure("a built response does not parse")
        }
        precondition(header.id == query.header.id && header.isResponse && name == query.question.name)
    }
    return 0
}
