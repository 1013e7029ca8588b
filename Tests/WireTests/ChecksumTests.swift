import Testing
@testable import Wire

@Suite("Checksum")
struct ChecksumTests {
    /// RFC 1071 §3's worked example: the words 0001 f203 f4f5 f6f7 sum to ddf2.
    @Test func rfc1071Example() {
        var sum = Checksum()
        sum.add([0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7])
        #expect(sum.sum16 == 0xDDF2)
        #expect(sum.value == 0x220D)
    }

    /// The same bytes fed in pieces split at every odd and even offset sum the same.
    @Test(arguments: 0...9)
    func piecesAtAnySplit(split: Int) {
        let data: [UInt8] = [0x45, 0x00, 0x00, 0x3C, 0x63, 0x73, 0x40, 0x00, 0x40]
        var whole = Checksum()
        whole.add(data)
        var pieces = Checksum()
        pieces.add(Array(data[..<split]))
        pieces.add(Array(data[split...]))
        #expect(pieces.sum16 == whole.sum16)
    }

    /// Three pieces of odd lengths, and words added at odd offsets, still agree.
    @Test func oddPiecesAndWords() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<200 {
            let data = randomBytes(count: Int.random(in: 0...64, using: &rng), using: &rng)
            var whole = Checksum()
            whole.add(data)
            var pieces = Checksum()
            var i = 0
            while i < data.count {
                let n = Int.random(in: 1...5, using: &rng)
                let end = min(i + n, data.count)
                if end - i == 2, Bool.random(using: &rng) {
                    pieces.add(UInt16(data[i]) << 8 | UInt16(data[i + 1]))
                } else {
                    pieces.add(Array(data[i..<end]))
                }
                i = end
            }
            #expect(pieces.sum16 == whole.sum16)
        }
    }

    /// Against RFC 1071's definition taken literally (big-endian 16-bit words, end-around
    /// carry after each), on every length up to past several 8-byte strides, random bytes
    /// and all-ones bytes (every word addition carries).
    @Test func agreesWithTheDefinition() {
        func reference(_ data: [UInt8]) -> UInt16 {
            var sum: UInt32 = 0
            var i = 0
            while i < data.count {
                let word = UInt32(data[i]) << 8 | (i + 1 < data.count ? UInt32(data[i + 1]) : 0)
                sum += word
                sum = (sum & 0xFFFF) + (sum >> 16)
                i += 2
            }
            return UInt16(sum)
        }
        var rng = SplitMix64(seed: 11)
        for count in 0...80 {
            for data in [randomBytes(count: count, using: &rng), [UInt8](repeating: 0xFF, count: count)] {
                var c = Checksum()
                c.add(data)
                #expect(c.sum16 == reference(data) || (c.sum16 == 0xFFFF && reference(data) == 0) || (c.sum16 == 0 && reference(data) == 0xFFFF),
                        "length \(count)")
            }
        }
        let big = randomBytes(count: 1500, using: &rng)
        var c = Checksum()
        c.add(big)
        #expect(c.sum16 == reference(big))
    }

    @Test func emptyInputSumsToZero() {
        #expect(Checksum().sum16 == 0)
        #expect(Checksum().value == 0xFFFF)
    }

    /// A captured IPv4 header sums to all ones with its own checksum included.
    @Test func capturedHeaderIsValid() {
        var sum = Checksum()
        sum.add(Array(Captured.ipv4TcpSyn[0..<20]))
        #expect(sum.isValid)
        var broken = Captured.ipv4TcpSyn
        broken[8] ^= 0x01  // TTL
        var bad = Checksum()
        bad.add(Array(broken[0..<20]))
        #expect(!bad.isValid)
    }

    /// RFC 1624 §4: m 0x5555 -> 0x3285 under HC 0xDD2F gives 0x0000, as recomputing does.
    @Test func rfc1624Example() {
        #expect(Checksum.update(0xDD2F, replacing: 0x5555 as UInt16, with: 0x3285 as UInt16) == 0x0000)
    }

    /// Incremental updates agree with recomputation for random headers and fields.
    @Test func incrementalMatchesRecompute() {
        var rng = SplitMix64(seed: 1624)
        for _ in 0..<500 {
            var header = randomBytes(count: 20, using: &rng)
            header[10] = 0
            header[11] = 0
            var sum = Checksum()
            sum.add(header)
            let checksum = sum.value
            // Change a 16-bit word (not the checksum) and a 32-bit address.
            let word = [0, 2, 4, 6, 8].randomElement(using: &rng)!
            let old16 = UInt16(header[word]) << 8 | UInt16(header[word + 1])
            let new16 = UInt16.random(in: 0...0xFFFF, using: &rng)
            header[word] = UInt8(new16 >> 8)
            header[word + 1] = UInt8(new16 & 0xFF)
            let old32 = header[12..<16].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let new32 = UInt32.random(in: 0...UInt32.max, using: &rng)
            for k in 0..<4 { header[12 + k] = UInt8(truncatingIfNeeded: new32 >> (24 - 8 * k)) }
            let updated = Checksum.update(
                Checksum.update(checksum, replacing: old16, with: new16), replacing: old32, with: new32)
            var recomputed = Checksum()
            recomputed.add(header)
            #expect(updated == recomputed.value)
        }
    }

    /// IPv4 and IPv6 pseudo-headers match their RFC layouts summed as plain bytes.
    @Test func pseudoHeaders() {
        let v4 = Checksum.pseudoHeader(source: host1, destination: host2, protocol: .tcp, length: 40)
        var v4Bytes = Checksum()
        v4Bytes.add([10, 9, 0, 1, 10, 9, 0, 2, 0, 6, 0, 40])
        #expect(v4.sum16 == v4Bytes.sum16)

        let v6 = Checksum.pseudoHeader(source: host6a, destination: host6b, protocol: .udp, length: 70_000)
        var v6Bytes = Checksum()
        v6Bytes.add(IPv6Address("fd00::1")!.bytes)
        v6Bytes.add(IPv6Address("fd00::2")!.bytes)
        v6Bytes.add([0x00, 0x01, 0x11, 0x70, 0, 0, 0, 17])
        #expect(v6.sum16 == v6Bytes.sum16)
    }
}
