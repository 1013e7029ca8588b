import AT
import Buffers
@testable import Modems
import Testing

/// Hostile input for every dialect: the lines of the transcripts cut, shuffled, mixed with
/// random bytes and fake payload headers with absurd lengths, while requests keep coming.
/// Nothing may trap, and the framer's buffer stays within its cap.
@Suite struct RobustnessTests {
    static let fragments: [String] = [
        "OK", "ERROR", "+CME ERROR: 10", "+CME ERROR: x", "SEND OK", "SEND FAIL", "CLOSE OK", ">", "> ",
        "+QIRD: 5", "+QIRD: 99999999999999999999", "+QIRD: -3", "+QIRD: 4,\"1.2.3.4\",7", "+QIRD: 4,\"1.2.3.4\"", "+QIRD: 3,\"a\",99999", "+QIURC: \"recv\",0",
        "+QIURC: \"recv\",99,5", "+QIURC: \"closed\",-1", "+QIURC: \"dnsgip\",0,3,60", "+QIURC: \"dnsgip\",\"1.1.1.1\"",
        "+QIOPEN: 0,0", "+QIOPEN: 11,566", "+QPING: 0,\"1.2.3.4\",32,10,64", "+QPING: 0,4,4,0,1,2,3", "+IP: 10.0.0.1",
        "+CIPRXGET: 2,0,5,0", "+CIPRXGET: 2,1,70000,0", "+CIPRXGET: 1,1", "+CIPSEND: 0,5,5", "+CIPSEND: 1,5,-1",
        "+IPCLOSE: 1,1", "+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY", "+NETOPEN: 0", "+CIPOPEN: 0,0", "+IPD5", "+IPD99999",
        "+CIPCLOSE: 0,0", "+MIPRD: 0,0,5,", "+MIPRD: 0,0,99999,", "+MIPURC: \"rtcp\",0,10,10", "+MIPURC: \"disconn\",0,3",
        "+MIPOPEN: 0,0", "+MIPCLOSE: 0", "+MDNSGIP: \"a\",\"1.2.3.4\"", "+MPING: \"statistics\",4,0,1,2,3", "+MPING: 3",
        "+CEREG: 0", "+CEREG: 1", "+CEREG: 0,1", "RDY", "+CPIN: READY", "+CSQ: 31,99", "\"", ",,,,", "+", ":",
    ]

    @Test(arguments: ModemModel.allCases)
    func randomStreamsNeverTrap(_ model: ModemModel) throws {
        var rng = SplitMix(seed: model.rawValue.utf8.reduce(UInt64(17)) { $0 &* 31 &+ UInt64($1) })
        var writes = 0
        var events = 0
        let driver = ATModemDriver(model: model)
        var now = Instant.zero
        try? driver.bringUp(apn: "cmnet", limits: BringUpLimits(), now: now)
        for round in 0..<3000 {
            var bytes: [UInt8] = []
            switch rng.next() % 4 {
            case 0:
                bytes = (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            case 1:
                let f = Self.fragments[Int(rng.next() % UInt64(Self.fragments.count))]
                bytes = Array("\r\n\(f)\r\n".utf8)
            case 2:
                let f = Self.fragments[Int(rng.next() % UInt64(Self.fragments.count))]
                bytes = Array(f.utf8.prefix(Int(rng.next() % 12)))
            default:
                let id = ModemSocketID(Int(rng.next() % 14) - 1)
                switch rng.next() % 8 {
                case 0: try? driver.open(id, rng.next() % 2 == 0 ? .tcp : .udp, host: "127.0.0.1", port: 80, now: now)
                case 1: try? driver.send(id, Array(repeating: 0x1A, count: Int(rng.next() % 3000))[...], now: now)
                case 2: try? driver.read(id, max: Int(rng.next() % 5000), now: now)
                case 3: try? driver.close(id, now: now)
                case 4: try? driver.resolve("example.com", now: now)
                case 5: try? driver.openDatagramService(id, localPort: UInt16(truncatingIfNeeded: rng.next()), now: now)
                case 6:
                    try? driver.sendDatagram(id, to: "10.0.0.\(rng.next() % 300)", port: UInt16(truncatingIfNeeded: rng.next()),
                                             Array(repeating: 0x1A, count: Int(rng.next() % 1600))[...], now: now)
                default: try? driver.reconcile(now: now)
                }
            }
            // Deliver in random chunks.
            var i = 0
            while i < bytes.count {
                let n = 1 + Int(rng.next() % 7)
                driver.received(bytes[i..<min(bytes.count, i + n)], now: now)
                i += n
            }
            if round % 10 == 0 {
                now = now + .milliseconds(Int64(rng.next() % 3000))
                driver.tick(now: now)
            }
            while driver.nextWrite() != nil { writes += 1 }
            while driver.nextEvent() != nil { events += 1 }
            #expect(driver.engine.framer.bufferedCount <= ATFramer.defaultMaxPayloadLength)
            #expect(driver.engine.queuedCount <= driver.engine.maxQueued)
        }
        // The run did reach the driver: commands went out and events came back.
        #expect(writes > 50)
        #expect(events > 10)
    }
}

/// A small deterministic generator (SplitMix64), so failures replay.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
