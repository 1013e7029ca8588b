import Buffers
import Testing
@testable import ModemSim

/// EC600E behaviour beyond the manual's worked examples: limits, errors, faults.
@Suite struct QuectelCat1Tests {
    func ready(_ model: String = "EC600E") -> ModemHarness {
        let h = ModemHarness(model)
        _ = h.take()
        h.send("ATE0")
        #expect(h.send("AT+QIACT=1") == "\r\nOK\r\n")
        return h
    }

    @Test func bootsWithRDYAndEchoOn() {
        let h = ModemHarness("EC600E")
        #expect(h.take() == "\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n")
        #expect(h.send("AT") == "AT\r\r\nOK\r\n")
        #expect(h.send("ATE0") == "ATE0\r\r\nOK\r\n")
        #expect(h.send("AT") == "\r\nOK\r\n")
    }

    @Test func unknownAndMalformedCommandsGetError() {
        let h = ready()
        #expect(h.send("AT+FOO") == "\r\nERROR\r\n")
        #expect(h.send("AT+QIOPEN=1,0,TCP,\"1.2.3.4\",80") == "\r\nERROR\r\n")
        #expect(h.send("AT+QIGETERROR") == "\r\n+QIGETERROR: 552,invalid parameters\r\n\r\nOK\r\n")
        #expect(h.send("AT;AT") == "\r\nERROR\r\n")
        // Lines that do not start with AT are ignored, as modems do.
        #expect(h.send("hello") == "")
    }

    @Test func socketLimitAndIdentityInUse() {
        let h = ready()
        for id in 0...11 {
            #expect(h.send("AT+QIOPEN=1,\(id),\"UDP\",\"127.0.0.1\",9,0,0") == "\r\nOK\r\n\r\n+QIOPEN: \(id),0\r\n")
        }
        #expect(h.send("AT+QIOPEN=1,12,\"UDP\",\"127.0.0.1\",9,0,0") == "\r\nERROR\r\n")
        #expect(h.send("AT+QIOPEN=1,3,\"UDP\",\"127.0.0.1\",9,0,0") == "\r\nERROR\r\n")
        #expect(h.send("AT+QIGETERROR").contains("563"))
    }

    @Test func sendFailsWhenTheSendBufferIsFull() {
        let h = ready()
        h.net.acceptSends = false
        h.send("AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\",7,0,0")
        var results: [String] = []
        for _ in 0..<8 {
            #expect(h.send("AT+QISEND=0,1460") == "\r\n>")
            results.append(h.raw([UInt8](repeating: 0x41, count: 1460)))
        }
        // 10240 bytes of send buffer (EC Freesize): 7 × 1460 fit, the 8th does not.
        #expect(results.filter { $0 == "\r\nSEND OK\r\n" }.count == 7)
        #expect(results.last == "\r\nSEND FAIL\r\n")
        #expect(h.send("AT+QISEND=0,0") == "\r\n+QISEND: 10220,0,10220\r\n\r\nOK\r\n")
    }

    @Test func sendFullFaultForcesSendFail() {
        let h = ready()
        h.send("AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\",7,0,0")
        h.modem.inject(.sendBufferFull(true), now: h.now)
        #expect(h.send("AT+QISENDEX=0,\"41\"") == "\r\nSEND FAIL\r\n")
        h.modem.inject(.sendBufferFull(false), now: h.now)
        #expect(h.send("AT+QISENDEX=0,\"41\"") == "\r\nSEND OK\r\n")
    }

    @Test func variableLengthSendEscAndOverflow() {
        let h = ready()
        h.send("AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\",7,0,0")
        #expect(h.send("AT+QISEND=0") == "\r\n>")
        #expect(h.raw(Array("abc".utf8) + [0x1B]) == "\r\nERROR\r\n")
        #expect(h.send("AT+QIGETERROR").contains("571"))
        #expect(h.send("AT+QISEND=0") == "\r\n>")
        #expect(h.raw([UInt8](repeating: 0x42, count: 1461)) == "\r\nERROR\r\n")
        #expect(h.net.sent[0] == nil)
    }

    @Test func dataEntryTimesOut() {
        let h = ready()
        h.send("AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\",7,0,0")
        #expect(h.send("AT+QISEND=0,10") == "\r\n>")
        #expect(h.raw(Array("abc".utf8)) == "")
        #expect(h.advance(.seconds(6)) == "\r\nERROR\r\n")
        #expect(h.send("AT") == "\r\nOK\r\n")
    }

    @Test func typedDataIsEchoedWithEchoOn() {
        let h = ModemHarness("EC600E")
        _ = h.take()
        h.send("AT+QIACT=1")
        h.send("AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\",7,0,0")
        #expect(h.send("AT+QISEND=0,2") == "AT+QISEND=0,2\r\r\n>")
        #expect(h.raw(Array("hi".utf8)) == "hi\r\nSEND OK\r\n")
        h.send("AT+QISDE=0")
        h.send("AT+QISEND=0,2")
        #expect(h.raw(Array("hi".utf8)) == "\r\nSEND OK\r\n")
    }

    @Test func recvIsNotifiedOnceUntilDrained() {
        let h = ready()
        h.send("AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\",7,0,0")
        #expect(h.deliver(0, "abc") == "\r\n+QIURC: \"recv\",0\r\n")
        #expect(h.deliver(0, "def") == "")
        #expect(h.send("AT+QIRD=0,4") == "\r\n+QIRD: 4\r\nabcd\r\n\r\nOK\r\n")
        #expect(h.deliver(0, "g") == "")
        #expect(h.send("AT+QIRD=0,100") == "\r\n+QIRD: 3\r\nefg\r\n\r\nOK\r\n")
        #expect(h.deliver(0, "h") == "\r\n+QIURC: \"recv\",0\r\n")
    }

    @Test func receiveBufferCapsWhatTheNetworkMayDeliver() {
        let h = ready()
        h.send("AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\",7,0,0")
        guard let s = h.modem.sockets[0] else { Issue.record("no socket"); return }
        #expect(h.modem.receiveWindow(for: s.handle) == 10240)
        _ = h.deliver(0, String(repeating: "x", count: 10000))
        #expect(h.modem.receiveWindow(for: s.handle) == 240)
    }

    @Test func peerCloseKeepsBufferedDataReadable() {
        let h = ready()
        h.send("AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\",7,0,0")
        _ = h.deliver(0, "bye")
        guard let s = h.modem.sockets[0] else { return }
        h.modem.handle(.closed(s.handle), now: h.now)
        #expect(h.take() == "\r\n+QIURC: \"closed\",0\r\n")
        #expect(h.send("AT+QISTATE=1,0").contains(",4,1,0,0,\"usbmodem\""))
        #expect(h.send("AT+QIRD=0,10") == "\r\n+QIRD: 3\r\nbye\r\n\r\nOK\r\n")
        #expect(h.send("AT+QISEND=0,1") == "\r\nERROR\r\n")
        #expect(h.send("AT+QICLOSE=0") == "\r\nOK\r\n")
        #expect(h.send("AT+QISTATE=1,0") == "\r\nOK\r\n")
    }

    @Test func rebootLosesSocketsAndPrintsRDYAfterADelay() {
        let h = ready()
        h.send("AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\",7,0,0")
        #expect(h.send("AT+CFUN=1,1") == "\r\nOK\r\n")
        #expect(h.advance(.milliseconds(100)) == "")
        #expect(h.net.closed.count == 1)
        #expect(h.send("AT") == "")
        #expect(h.advance(.seconds(3)) == "\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n")
        #expect(h.send("AT") == "AT\r\r\nOK\r\n")
        #expect(h.modem.sockets.isEmpty)
    }

    @Test func networkLossDeactivatesTheContext() {
        let h = ready()
        h.send("AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\",7,0,0")
        h.modem.inject(.networkLoss, now: h.now)
        #expect(h.take() == "\r\n+QIURC: \"pdpdeact\",1\r\n")
        #expect(h.send("AT+QIACT=1") == "\r\nERROR\r\n")
        h.modem.inject(.networkBack, now: h.now)
        #expect(h.send("AT+QIDEACT=1") == "\r\nOK\r\n")
        #expect(h.send("AT+QIACT=1") == "\r\nOK\r\n")
    }

    @Test func directPushSplitsAt1500Bytes() {
        let h = ready()
        h.send("AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\",7,0,1")
        let out = h.deliver(0, String(repeating: "z", count: 2000))
        #expect(out == "\r\n+QIURC: \"recv\",0,1500\r\n" + String(repeating: "z", count: 1500) + "\r\n"
                + "\r\n+QIURC: \"recv\",0,500\r\n" + String(repeating: "z", count: 500) + "\r\n")
    }

    /// A held URC lands between a command's response and its final result, and the same
    /// seed puts it in the same place.
    @Test func heldURCsAreRepeatableBySeed() {
        func run(seed: UInt64) -> String {
            let h = ModemHarness("EC600E", urcRate: 0.5, seed: seed)
            _ = h.take()
            h.send("ATE0")
            h.send("AT+QIACT=1")
            var log = h.send("AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\",7,0,0")
            for i in 0..<20 {
                log += h.deliver(0, "d\(i)")
                log += h.send("AT+QIRD=0,100")
                log += h.send("AT+CSQ")
            }
            return log
        }
        let a = run(seed: 42)
        #expect(a == run(seed: 42))
        #expect(a != run(seed: 43))
        // A recv URC held while idle comes out inside the next command's response, after
        // its data and before its OK (so the host sees a notification for data it already read).
        #expect(a.contains("\r\n\r\n+QIURC: \"recv\",0\r\n\r\nOK\r\n"))
    }

    @Test func latencyDelaysTheAnswer() {
        let h = ModemHarness("EC600E", latency: .milliseconds(200))
        _ = h.take()
        #expect(h.send("ATE0") == "ATE0\r")
        #expect(h.advance(.milliseconds(100)) == "")
        #expect(h.advance(.milliseconds(150)) == "\r\nOK\r\n")
        // Input typed meanwhile waits its turn.
        h.send("AT")
        h.send("AT+CGMM")
        #expect(h.advance(.milliseconds(250)) == "\r\nOK\r\n")
        #expect(h.advance(.milliseconds(250)) == "\r\nEC600E\r\n\r\nOK\r\n")
    }

    @Test func silenceFaultDropsInput() {
        let h = ready()
        h.modem.inject(.silence(.seconds(2)), now: h.now)
        #expect(h.send("AT") == "")
        _ = h.advance(.seconds(3))
        #expect(h.send("AT") == "\r\nOK\r\n")
    }
}

@Suite struct QuectelAutoSendTests {
    @Test func sendAutoSendsEveryPeriod() {
        let h = ModemHarness("EC600E")
        _ = h.take()
        h.send("ATE0")
        h.send("AT+QIACT=1")
        h.send("AT+QIOPEN=1,0,\"UDP\",\"127.0.0.1\",9,0,0")
        #expect(h.send("AT+QICFG=\"send/auto\",0,10,\"4142\",1") == "\r\nERROR\r\n")  // period 1-19 is invalid
        #expect(h.send("AT+QICFG=\"send/auto\",0,20,\"4142\",1") == "\r\nOK\r\n")
        #expect(h.net.sent[0] == Array("AB".utf8))
        _ = h.advance(.seconds(41))
        #expect(h.net.sent[0] == Array("ABABAB".utf8))
        #expect(h.send("AT+QICFG=\"send/auto\",0") == "\r\n+QICFG: \"send/auto\",0,20,\"4142\",1\r\n\r\nOK\r\n")
        h.send("AT+QICFG=\"send/auto\",0,0")
        _ = h.advance(.seconds(60))
        #expect(h.net.sent[0] == Array("ABABAB".utf8))
    }

    @Test func testFormListsEveryOption() {
        let h = ModemHarness("EC600E")
        _ = h.take()
        h.send("ATE0")
        let out = h.send("AT+QICFG=?")
        #expect(out.components(separatedBy: "+QICFG: ").count - 1 == 19)
        #expect(out.contains("\"tcp/retranscfg\",(3-12),(1-60)\r\n\r\n+QICFG: \"send/auto\""))
    }
}
