import Buffers
import Testing
@testable import ModemSim

/// Each model reports the same faults in its own words (the fault list, each manual's URCs).
@Suite struct DialectFaultTests {
    struct Case: Sendable, CustomStringConvertible {
        var model: String
        var setup: [String]
        var open: String
        var opened: String
        var networkLoss: String
        var remoteClose: String
        var description: String { model }
    }

    static let cases = [
        Case(model: "EC600E", setup: ["ATE0", "AT+QIACT=1"], open: "AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\",7,0,0",
             opened: "+QIOPEN: 0,0", networkLoss: "\r\n+QIURC: \"pdpdeact\",1\r\n", remoteClose: "\r\n+QIURC: \"closed\",0\r\n"),
        Case(model: "BC26", setup: ["ATE0"], open: "AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\",7,0,0",
             opened: "+QIOPEN: 0,0", networkLoss: "\r\n+QIURC: \"closed\",0\r\n", remoteClose: "\r\n+QIURC: \"closed\",0\r\n"),
        Case(model: "SIM7028", setup: ["ATE0", "AT+NETOPEN"], open: "AT+CIPOPEN=0,\"TCP\",\"127.0.0.1\",7",
             opened: "+CIPOPEN: 0,0", networkLoss: "\r\n+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY\r\n", remoteClose: "\r\n+IPCLOSE: 0,1\r\n"),
        Case(model: "ML307A", setup: ["ATE0"], open: "AT+MIPOPEN=0,\"TCP\",\"127.0.0.1\",7",
             opened: "+MIPOPEN: 0,0", networkLoss: "\r\n+MIPURC: \"disconn\",0,3\r\n", remoteClose: "\r\n+MIPURC: \"disconn\",0,1\r\n"),
        Case(model: "MN316", setup: ["ATE0"], open: "AT+MIPOPEN=0,\"TCP\",\"127.0.0.1\",7",
             opened: "+MIPOPEN: 0,0", networkLoss: "\r\n+MIPURC: \"disconn\",0,3\r\n", remoteClose: "\r\n+MIPURC: \"disconn\",0,1\r\n"),
    ]

    func opened(_ c: Case) -> ModemHarness {
        let h = ModemHarness(c.model)
        _ = h.take()
        for line in c.setup { h.send(line) }
        #expect(h.send(c.open).contains(c.opened))
        return h
    }

    @Test(arguments: cases)
    func networkLoss(_ c: Case) {
        let h = opened(c)
        h.modem.inject(.networkLoss, now: h.now)
        h.net.serve(h.modem, now: h.now)
        #expect(h.take() == c.networkLoss)
        #expect(h.net.open[0] == nil, "the real socket is closed")
    }

    @Test(arguments: cases)
    func remoteClose(_ c: Case) {
        let h = opened(c)
        h.modem.inject(.remoteClose(linkID: 0), now: h.now)
        #expect(h.take() == c.remoteClose)
    }

    @Test(arguments: cases)
    func rebootForgetsEverything(_ c: Case) {
        let h = opened(c)
        h.modem.inject(.reboot, now: h.now)
        #expect(h.take() == "")
        let boot = h.advance(.seconds(3))
        #expect(boot.hasPrefix("\r\nRDY\r\n"))
        #expect(h.modem.sockets.isEmpty && h.net.open.isEmpty)
        // Echo is back on after a power cycle.
        #expect(h.send("AT") == "AT\r\r\nOK\r\n")
    }

    @Test(arguments: cases)
    func garbageAppearsOnTheLine(_ c: Case) {
        let h = opened(c)
        h.modem.inject(.garbage(64), now: h.now)
        #expect(h.take().utf8.count >= 40)  // 64 random bytes (invalid UTF-8 folds a few)
        #expect(h.modem.pendingOutputCount == 0)
    }
}
