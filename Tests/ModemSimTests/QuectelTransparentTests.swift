import Buffers
import Testing
@testable import ModemSim

/// EC600E transparent mode (EC §1.1, quectel.md §4.6): packets, the +++ guard times, ATO,
/// NO CARRIER.
@Suite struct QuectelTransparentTests {
    func connected() -> ModemHarness {
        let h = ModemHarness("EC600E")
        _ = h.take()
        h.send("ATE0")
        h.send("AT+QIACT=1")
        #expect(h.send("AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\",7,0,2") == "\r\nCONNECT\r\n")
        return h
    }

    @Test func fullPacketsGoAtOnceShortOnesAfterTheWait() {
        let h = ModemHarness("EC600E")
        _ = h.take()
        h.send("ATE0")
        h.send("AT+QIACT=1")
        h.send("AT+QICFG=\"transpktsize\",4")
        #expect(h.send("AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\",7,0,2") == "\r\nCONNECT\r\n")
        // Typed in data mode, an AT command is payload; whole 4-byte packets leave at once.
        #expect(h.raw(Array("AT+CSQ\r".utf8)) == "")
        #expect(h.net.sent[0] == Array("AT+C".utf8))
        // The short rest leaves after transwaittm (2 × 100 ms).
        _ = h.advance(.milliseconds(150))
        #expect(h.net.sent[0] == Array("AT+C".utf8))
        _ = h.advance(.milliseconds(100))
        #expect(h.net.sent[0] == Array("AT+CSQ\r".utf8))
    }

    @Test func plusPlusPlusNeedsTheGuardTimes() {
        let h = connected()
        // Without a second of quiet before, +++ is data.
        h.raw(Array("x+++".utf8))
        _ = h.advance(.milliseconds(1500))
        #expect(h.net.sent[0] == Array("x+++".utf8))
        // With quiet before and after, it is the escape, answered OK; the socket is then in
        // buffer mode.
        h.raw(Array("+++".utf8))
        #expect(h.advance(.milliseconds(500)) == "")
        #expect(h.advance(.milliseconds(600)) == "\r\nOK\r\n")
        #expect(h.send("AT+QISTATE=1,0").contains(",2,1,0,0,\"usbmodem\""))
        #expect(h.deliver(0, "later") == "\r\n+QIURC: \"recv\",0\r\n")
        // ATO returns to the same socket; buffered data comes out first, unframed.
        #expect(h.send("ATO") == "\r\nCONNECT\r\nlater")
    }

    @Test func plusesFollowedByDataAreData() {
        let h = connected()
        _ = h.advance(.seconds(2))
        h.raw(Array("+++".utf8))
        _ = h.advance(.milliseconds(300))
        h.raw(Array("y".utf8))
        _ = h.advance(.milliseconds(300))
        #expect(h.net.sent[0] == Array("+++y".utf8))
        #expect(h.take() == "")
    }

    @Test func lostConnectionSaysNoCarrier() {
        let h = connected()
        #expect(h.deliver(0, "in") == "in")
        guard let s = h.modem.sockets[0] else { Issue.record("no socket"); return }
        h.modem.handle(.closed(s.handle), now: h.now)
        #expect(h.take() == "\r\nNO CARRIER\r\n")
        #expect(h.send("ATO") == "\r\nNO CARRIER\r\n")
        #expect(h.send("AT+QICLOSE=0") == "\r\nOK\r\n")
    }

    @Test func atoWithoutTransparentHistorySaysNoCarrier() {
        let h = ModemHarness("EC600E")
        _ = h.take()
        h.send("ATE0")
        #expect(h.send("ATO") == "\r\nNO CARRIER\r\n")
    }

    @Test func failedTransparentOpenIsError() {
        let h = ModemHarness("EC600E")
        _ = h.take()
        h.send("ATE0")
        h.send("AT+QIACT=1")
        h.net.refusedHosts = ["10.9.9.9"]
        #expect(h.send("AT+QIOPEN=1,0,\"TCP\",\"10.9.9.9\",80,0,2") == "\r\nERROR\r\n")
        #expect(h.send("AT+QIGETERROR") == "\r\n+QIGETERROR: 566,socket connect failed\r\n\r\nOK\r\n")
    }
}

@Suite struct BoundedMemoryTests {
    /// While the line belongs to a transparent socket, another socket's pushed data is held;
    /// past the output limit the network is no longer read (its window closes).
    @Test func heldOutputClosesTheWindow() {
        let h = ModemHarness("EC600E")
        _ = h.take()
        h.send("ATE0")
        h.send("AT+QIACT=1")
        h.send("AT+QIOPEN=1,1,\"UDP\",\"127.0.0.1\",9,0,1")
        #expect(h.send("AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\",7,0,2") == "\r\nCONNECT\r\n")
        guard let other = h.modem.sockets[1] else { Issue.record("no socket"); return }
        var delivered = 0
        for _ in 0..<400 where h.modem.receiveWindow(for: other.handle) > 0 {
            h.modem.handle(.received(other.handle, [UInt8](repeating: 0x55, count: 1400), from: RemoteEndpoint(host: "127.0.0.1", port: 9)), now: h.now)
            delivered += 1
        }
        #expect(h.modem.receiveWindow(for: other.handle) == 0)
        #expect(delivered < 200 && delivered > 150)
        #expect(h.take() == "")
    }
}
