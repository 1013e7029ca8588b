import Buffers
import Testing
@testable import ModemSim

/// Whatever the host sends, the modem neither crashes nor hangs, and answers AT afterwards.
@Suite struct RobustnessTests {
    @Test(arguments: ["EC600E", "BC26", "SIM7028", "ML307A", "MN316"], [UInt64(1), 2, 3])
    func randomBytesThenAT(model: String, seed: UInt64) {
        let h = ModemHarness(model, urcRate: 0.1, seed: seed)
        _ = h.take()
        h.send("AT+QIACT=1")
        var rng = SeededRandom(seed: seed &* 7919)
        var written = 0
        // 200 chunks of up to 512 random bytes, with bursts biased towards AT syntax.
        for round in 0..<200 {
            let length = Int(rng.next() % 512)
            var chunk: [UInt8] = []
            for _ in 0..<length {
                let r = rng.next()
                if round % 3 == 0 {
                    let alphabet = Array("AT+QIOPENSDCLRMIP=?,\"0123456789\r\n\u{1A}\u{1B}>".utf8)
                    chunk.append(alphabet[Int(r % UInt64(alphabet.count))])
                } else {
                    chunk.append(UInt8(truncatingIfNeeded: r))
                }
            }
            written += chunk.count
            h.raw(chunk)
            _ = h.advance(.milliseconds(Int64(rng.next() % 50)))
        }
        #expect(written > 10_000)
        // Leave any data entry (it times out), any reboot (it finishes), then talk normally.
        _ = h.advance(.seconds(130))
        _ = h.raw([0x1B, 0x0D])
        _ = h.advance(.seconds(10))
        let answer = h.send("AT")
        #expect(answer.hasSuffix("\r\nOK\r\n"), "got \(answer.debugDescription)")
    }
}
