import Buffers
import Testing
@testable import ModemSim

/// BC26, SIM7028 and OneMO behaviour beyond their manuals' worked examples.
@Suite struct QuectelNBTests {
    func ready() -> ModemHarness {
        let h = ModemHarness("BC26")
        #expect(h.take() == "\r\nRDY\r\n\r\n+CPIN: READY\r\n\r\n+IP: 10.7.157.1\r\n")
        h.send("ATE0")
        return h
    }

    @Test func inlineLengthMustMatchAndReadLengthIsMandatory() {
        let h = ready()
        h.send("AT+QIOPEN=1,0,\"UDP\",\"127.0.0.1\",9,0,0")
        #expect(h.send("AT+QISEND=0,5,1234") == "\r\nERROR\r\n")
        #expect(h.send("AT+QIRD=0") == "\r\nERROR\r\n")
        #expect(h.send("AT+QIRD=0,513") == "\r\nERROR\r\n")
        #expect(h.send("AT+QISTATE") == "\r\nERROR\r\n")
        #expect(h.send("AT+QIOPEN=2,1,\"UDP\",\"127.0.0.1\",9,0,0") == "\r\nERROR\r\n")
    }

    @Test func failedOpenHoldsTheIdUntilClosed() {
        let h = ready()
        h.net.refusedHosts = ["10.9.9.9"]
        #expect(h.send("AT+QIOPEN=1,0,\"TCP\",\"10.9.9.9\",80,0,0") == "\r\nOK\r\n\r\n+QIOPEN: 0,566\r\n")
        #expect(h.send("AT+QISTATE=1,0") == "\r\n+QISTATE: 0,\"TCP\",\"10.9.9.9\",80,0,0,1,0\r\n\r\nOK\r\n")
        #expect(h.send("AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\",80,0,0") == "\r\nERROR\r\n")
        #expect(h.send("AT+QICLOSE=0") == "\r\nOK\r\n\r\nCLOSE OK\r\n")
        #expect(h.send("AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\",80,0,0") == "\r\nOK\r\n\r\n+QIOPEN: 0,0\r\n")
    }

    @Test func hexDataFormat() {
        let h = ready()
        h.send("AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\",9,0,0")
        #expect(h.send("AT+QICFG=\"dataformat\",1,1") == "\r\nOK\r\n")
        #expect(h.send("AT+QISEND=0,2,0D0A") == "\r\nOK\r\n\r\nSEND OK\r\n")
        #expect(h.net.sent[0] == [0x0D, 0x0A])
        _ = h.deliver(0, "\u{1A}")
        #expect(h.send("AT+QIRD=0,10") == "\r\n+QIRD: 1\r\n1A\r\n\r\nOK\r\n")
        #expect(h.send("AT+QICFG=\"dataformat\"") == "\r\n+QICFG: \"dataformat\",1,1\r\n\r\nOK\r\n")
    }

    @Test func directPushDropsUDPURCsOver1400Bytes() {
        let h = ready()
        h.send("AT+QIOPEN=1,0,\"UDP\",\"127.0.0.1\",9,0,1")
        #expect(h.deliver(0, String(repeating: "u", count: 1390)) == "")
        #expect(h.deliver(0, "ok") == "\r\n+QIURC: \"recv\",0,2\r\nok\r\n")
    }

    @Test func errorCodes573And574AreSwapped() {
        #expect(QuectelError.code573.description(nbIoT: true) == "apn not configured")
        #expect(QuectelError.code573.description(nbIoT: false) == "port busy")
    }
}

@Suite struct SIMCom7028Tests {
    func ready() -> ModemHarness {
        let h = ModemHarness("SIM7028")
        _ = h.take()
        h.send("ATE0")
        #expect(h.send("AT+NETOPEN") == "\r\nOK\r\n\r\n+NETOPEN: 0\r\n")
        return h
    }

    @Test func socketsNeedTheNetworkOpen() {
        let h = ModemHarness("SIM7028")
        _ = h.take()
        h.send("ATE0")
        #expect(h.send("AT+CIPOPEN=0,\"TCP\",\"127.0.0.1\",7") == "\r\n+CIPOPEN: 0,2\r\n\r\nERROR\r\n")
        #expect(h.send("AT+CIPOPEN=2,\"TCP\",\"127.0.0.1\",7") == "\r\n+IP ERROR: Invalid parameter\r\n\r\nERROR\r\n")
    }

    @Test func etxEscapingInVariableLengthSends() {
        let h = ready()
        h.send("AT+CIPOPEN=0,\"TCP\",\"127.0.0.1\",7")
        #expect(h.send("AT+CIPSEND=0") == "\r\n>")
        // 0x03 0x1A is a literal Ctrl+Z, 0x03 0x03 a literal ETX, 0x03 0x1B a literal ESC.
        let out = h.raw([0x61, 0x03, 0x1A, 0x62, 0x03, 0x03, 0x03, 0x1B, 0x63, 0x1A])
        #expect(out == "\r\nOK\r\n\r\n+CIPSEND: 0,6,6\r\n")
        #expect(h.net.sent[0] == [0x61, 0x1A, 0x62, 0x03, 0x1B, 0x63])
        // Fixed length takes every byte as it is.
        #expect(h.send("AT+CIPSEND=0,3") == "\r\n>")
        #expect(h.raw([0x03, 0x1A, 0x1B]) == "\r\nOK\r\n\r\n+CIPSEND: 0,3,3\r\n")
    }

    @Test func escCancelsWithOK() {
        let h = ready()
        h.send("AT+CIPOPEN=0,\"TCP\",\"127.0.0.1\",7")
        h.send("AT+CIPSEND=0")
        #expect(h.raw(Array("abc".utf8) + [0x1B]) == "\r\nOK\r\n")
        #expect(h.net.sent[0] == nil)
    }

    @Test func aShortSendMakesTheLinkUnusable() {
        let h = ready()
        h.send("AT+CIPOPEN=0,\"TCP\",\"127.0.0.1\",7")
        h.modem.inject(.sendBufferFull(true), now: h.now)
        h.send("AT+CIPSEND=0,2")
        #expect(h.raw(Array("hi".utf8)) == "\r\nOK\r\n\r\n+CIPSEND: 0,2,0\r\n")
        h.modem.inject(.sendBufferFull(false), now: h.now)
        #expect(h.send("AT+CIPSEND=0,2") == "\r\n+CIPERROR: 4\r\n\r\nERROR\r\n")
    }

    @Test func sendModeOneReportsWhenTheDataHasLeft() {
        let h = ready()
        h.send("AT+CIPSENDMODE=1")
        h.send("AT+CIPOPEN=0,\"TCP\",\"127.0.0.1\",7")
        h.net.acceptSends = false
        h.send("AT+CIPSEND=0,2")
        #expect(h.raw(Array("hi".utf8)) == "\r\nOK\r\n")
        guard let s = h.modem.sockets[0] else { Issue.record("no socket"); return }
        h.modem.handle(.sent(s.handle, count: 2), now: h.now)
        #expect(h.take() == "\r\n+CIPSEND: 0,2,2\r\n")
    }

    @Test func busyLinkAndDNSFailure() {
        let h = ready()
        h.send("AT+CIPOPEN=0,\"TCP\",\"127.0.0.1\",7")
        #expect(h.send("AT+CIPOPEN=0,\"TCP\",\"127.0.0.1\",7") == "\r\n+CIPOPEN: 0,9\r\n\r\nERROR\r\n")
        #expect(h.send("AT+CDNSGIP=\"no.such.name\"") == "\r\n+CDNSGIP: 0,10\r\n\r\nERROR\r\n")
        #expect(h.send("AT+CDNSGIP=\"bad_name\"") == "\r\nERROR\r\n")
    }

    @Test func receiveHeaderVariants() {
        let h = ready()
        h.send("AT+CIPOPEN=0,\"TCP\",\"127.0.0.1\",7")
        h.send("AT+CIPCCFG=,,,,1")
        #expect(h.deliver(0, "ab") == "\r\nRECV FROM:127.0.0.1:7\r\n+RECEIVE,0,2\r\nab")
        h.send("AT+CIPSRIP=0")
        h.send("AT+CIPCCFG=,,,,0")
        #expect(h.deliver(0, "cd") == "\r\n+IPD2\r\ncd")
        h.send("AT+CIPCCFG=,,,0")
        #expect(h.send("AT+CIPRXGET=2,1") == "\r\n+IP ERROR: 22\r\n\r\nERROR\r\n")
    }
}

@Suite struct OneMOTests {
    func ready(_ model: String) -> ModemHarness {
        let h = ModemHarness(model)
        _ = h.take()
        h.send("ATE0")
        return h
    }

    @Test func nbModelsHaveNoPrompt() {
        let h = ready("MN316")
        h.send("AT+MIPOPEN=0,\"TCP\",\"127.0.0.1\",7")
        #expect(h.send("AT+MIPSEND=0,5") == "\r\n+CME ERROR: 550\r\n")
        #expect(h.send("AT+MIPSEND=0") == "\r\n+CME ERROR: 550\r\n")
        // AT+MIPSACK does not exist on MN316 (onemo.md §5.9): an unknown command.
        #expect(h.send("AT+MIPSACK=0") == "\r\nERROR\r\n")
    }

    @Test func cat1PromptSendsFixedLengthRawBytes() {
        let h = ready("ML307A")
        h.send("AT+MIPOPEN=0,\"TCP\",\"127.0.0.1\",7")
        #expect(h.send("AT+MIPSEND=0,3") == "\r\n>")
        #expect(h.raw([0x1A, 0x0D, 0x0A]) == "\r\nOK\r\n")
        #expect(h.net.sent[0] == [0x1A, 0x0D, 0x0A])
        #expect(h.send("AT+MIPSACK=0") == "\r\n+MIPSACK: 3,3,0,0\r\n\r\nOK\r\n")
    }

    @Test func inlineHexAndErrors() {
        let h = ready("MN316")
        #expect(h.send("AT+MIPCLOSE=0") == "\r\n+CME ERROR: 551\r\n")
        h.send("AT+MIPCFG=\"encoding\",0,1,1")
        h.send("AT+MIPOPEN=0,\"TCP\",\"127.0.0.1\",7")
        #expect(h.send("AT+MIPOPEN=0,\"TCP\",\"127.0.0.1\",7") == "\r\n+CME ERROR: 552\r\n")
        #expect(h.send("AT+MIPSEND=0,2,\"0D0A\"") == "\r\n+MIPSEND: 0,2\r\n\r\nOK\r\n")
        #expect(h.send("AT+MIPSEND=0,3,\"0D0A\"") == "\r\n+CME ERROR: 550\r\n")
        #expect(h.deliver(0, "\r\n") == "\r\n+MIPURC: \"rtcp\",0,2,0D0A\r\n")
        // With AT+CMEE=0 the same failure is a plain ERROR.
        h.send("AT+CMEE=0")
        #expect(h.send("AT+MIPSEND=0,3,\"0D0A\"") == "\r\nERROR\r\n")
    }

    @Test func packetCacheOverflowDrops() {
        let h = ready("MN316")
        h.send("AT+MIPOPEN=0,\"UDP\",\"127.0.0.1\",7,10,3")
        for i in 1...12 { #expect(h.deliver(0, "p\(i)") == "\r\n+MIPURC: \"rudp\",0,\(i)\r\n") }
        guard let s = h.modem.sockets[0] else { Issue.record("no socket"); return }
        // The network side stops reading at the cap; a datagram forced in anyway is dropped.
        #expect(h.modem.receiveWindow(for: s.handle) == 0)
        h.modem.handle(.received(s.handle, Array("x13".utf8), from: RemoteEndpoint(host: "127.0.0.1", port: 7)), now: h.now)
        #expect(h.take() == "\r\n+MIPURC: \"drop\",0,3\r\n")
        #expect(h.send("AT+MIPRD=0") == "\r\n+MIPRD: 0,12\r\n\r\nOK\r\n")
    }

    @Test func autofreeOneKeepsTheSocketUntilClosed() {
        let h = ready("ML307A")
        h.send("AT+MIPCFG=\"autofree\",0,1")
        h.send("AT+MIPOPEN=0,\"TCP\",\"127.0.0.1\",7")
        h.modem.inject(.remoteClose(linkID: 0), now: h.now)
        #expect(h.take() == "\r\n+MIPURC: \"disconn\",0,1\r\n")
        #expect(h.send("AT+MIPSTATE=0") == "\r\n+MIPSTATE: 0,\"TCP\",\"127.0.0.1\",7,\"CLOSED\"\r\n\r\nOK\r\n")
        #expect(h.send("AT+MIPCLOSE=0") == "\r\nOK\r\n\r\n+MIPCLOSE: 0\r\n")
        #expect(h.send("AT+MIPSTATE=0") == "\r\n+MIPSTATE: 0,,,\"INITIAL\"\r\n\r\nOK\r\n")
    }

    @Test func leavingBufferModePrintsTheBuffer() {
        let h = ready("ML307A")
        h.send("AT+MIPOPEN=0,\"TCP\",\"127.0.0.1\",7,10,2")
        _ = h.deliver(0, "held")
        #expect(h.send("AT+MIPMODE=0,0") == "\r\n+MIPRD: 0,0,4,held\r\n\r\nOK\r\n")
        #expect(h.deliver(0, "live") == "\r\n+MIPURC: \"rtcp\",0,4,live\r\n")
    }
}

@Suite struct OneMOAckTests {
    @Test func ackModeReportsAcknowledgedBytes() {
        let h = ModemHarness("ML307A")
        _ = h.take()
        h.send("ATE0")
        h.send("AT+MIPCFG=\"ackmode\",0,1")
        h.send("AT+MIPOPEN=0,\"TCP\",\"127.0.0.1\",7")
        h.net.acceptSends = false
        #expect(h.send("AT+MIPSEND=0,5,\"hello\"") == "\r\n+MIPSEND: 0,5\r\n\r\nOK\r\n")
        guard let s = h.modem.sockets[0] else { Issue.record("no socket"); return }
        h.modem.handle(.sent(s.handle, count: 5), now: h.now)
        #expect(h.take() == "\r\n+MIPURC: \"ack\",0,5\r\n")
        #expect(h.send("AT+MIPCFG=\"ackmode\",0") == "\r\n+MIPCFG: \"ackmode\",0,1\r\n\r\nOK\r\n")
    }
}

@Suite struct AttachTests {
    /// BC26 has no PDP command: the attach that prints +IP: has context 1 up.
    @Test func bc26ShowsItsAddressAfterAttach() {
        let h = ModemHarness("BC26")
        _ = h.take()
        h.send("ATE0")
        #expect(h.send("AT+CGPADDR=1") == "\r\n+CGPADDR: 1,\"10.7.157.1\"\r\n\r\nOK\r\n")
        h.modem.inject(.networkLoss, now: h.now)
        #expect(h.send("AT+CGPADDR=1") == "\r\n+CGPADDR: 1\r\n\r\nOK\r\n")
        h.modem.inject(.networkBack, now: h.now)
        #expect(h.take() == "\r\n+IP: 10.7.157.1\r\n")
        #expect(h.send("AT+CGPADDR=1") == "\r\n+CGPADDR: 1,\"10.7.157.1\"\r\n\r\nOK\r\n")
    }

    /// EC600E follows its manual's flow: AT+QIACT=1 brings the context up.
    @Test func ec600eActivatesWithQIACT() {
        let h = ModemHarness("EC600E")
        _ = h.take()
        h.send("ATE0")
        #expect(h.send("AT+CGPADDR=1") == "\r\n+CGPADDR: 1\r\n\r\nOK\r\n")
        h.send("AT+QIACT=1")
        #expect(h.send("AT+CGPADDR=1") == "\r\n+CGPADDR: 1,\"10.7.157.1\"\r\n\r\nOK\r\n")
        #expect(h.send("AT+CGACT?") == "\r\n+CGACT: 1,1\r\n\r\nOK\r\n")
    }
}
