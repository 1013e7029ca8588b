import Buffers
@testable import Modems
import Testing

/// What the driver refuses before anything reaches the serial line: the shared datagram
/// socket only where the model has one, a local port, whole datagrams within one send, and
/// the dotted IPv4 peer EC §2.4.10 requires.
@Suite struct DatagramServiceRequestTests {
    @Test(arguments: ModemModel.allCases)
    func onlyEC600EAndEC800EHaveTheService(_ model: ModemModel) {
        let driver = ATModemDriver(model: model)
        let shared = model == .ec600e || model == .ec800e
        #expect(model.capabilities.udpSharedSocket == shared)
        let open = Result { () throws(ModemError) in try driver.openDatagramService(ModemSocketID(0), localPort: 3030, now: .zero) }
        if shared {
            #expect(throws: Never.self) { try open.get() }
            #expect(driver.nextWrite().map { String(decoding: $0.parts.flatMap { Array($0) }, as: UTF8.self) }
                    == "AT+QIOPEN=1,0,\"UDP SERVICE\",\"127.0.0.1\",0,3030,0\r")
        } else {
            #expect(throws: ModemError.unsupported) { try open.get() }
            #expect(driver.nextWrite() == nil)
        }
    }

    @Test func badRequestsAreRefusedWithAReason() throws {
        let driver = ATModemDriver(model: .ec600e)
        let id = ModemSocketID(2)
        #expect(throws: ModemError.invalidArgument) { try driver.openDatagramService(id, localPort: 0, now: .zero) }
        #expect(throws: ModemError.badSocket) { try driver.openDatagramService(ModemSocketID(12), localPort: 1, now: .zero) }
        // Not open yet: no send of any kind.
        #expect(throws: ModemError.wrongState) { try driver.sendDatagram(id, to: "10.0.0.1", port: 7, [1][...], now: .zero) }
        for host in ["example.com", "::1", "10.0.0", "10.0.0.256", "10.0.0.1 ", "1.2.3.4\r\nAT", ""] {
            #expect(throws: ModemError.invalidArgument, "\(host)") {
                try driver.sendDatagram(id, to: host, port: 7, [1][...], now: .zero)
            }
        }
        #expect(throws: ModemError.invalidArgument) { try driver.sendDatagram(id, to: "10.0.0.1", port: 0, [1][...], now: .zero) }
        // A datagram is never split: more than one send takes is refused, not cut.
        let big = [UInt8](repeating: 0, count: ModemModel.ec600e.capabilities.maxSend + 1)
        #expect(throws: ModemError.invalidArgument) { try driver.sendDatagram(id, to: "10.0.0.1", port: 7, big[...], now: .zero) }
        #expect(throws: ModemError.invalidArgument) { try driver.sendDatagram(id, to: "10.0.0.1", port: 7, [][...], now: .zero) }
        #expect(driver.nextWrite() == nil)
    }

    @Test func aServiceSocketTakesOnlySendsThatNameThePeer() throws {
        let driver = ATModemDriver(model: .ec600e)
        let id = ModemSocketID(1)
        try driver.openDatagramService(id, localPort: 40000, now: .zero)
        _ = driver.nextWrite()
        driver.received(Array("\r\nOK\r\n\r\n+QIOPEN: 1,0\r\n".utf8), now: .zero)
        var opened = false
        while let e = driver.nextEvent() { if e == .opened(id, nil) { opened = true } }
        #expect(opened)
        #expect(throws: ModemError.wrongState) { try driver.send(id, [1, 2][...], now: .zero) }
        try driver.sendDatagram(id, to: "192.0.2.10", port: 7, [1, 2][...], now: .zero)
        #expect(driver.nextWrite().map { String(decoding: $0.parts.flatMap { Array($0) }, as: UTF8.self) }
                == "AT+QISEND=1,2,\"192.0.2.10\",7\r")
        // One pending send per socket.
        #expect(throws: ModemError.wrongState) { try driver.sendDatagram(id, to: "192.0.2.10", port: 7, [3][...], now: .zero) }
    }

    @Test func aPlainUDPSocketDoesNotTakeAPeerPerSend() throws {
        let driver = ATModemDriver(model: .ec600e)
        let plain = ModemSocketID(4)
        try driver.open(plain, .udp, host: "192.0.2.10", port: 7, now: .zero)
        _ = driver.nextWrite()
        driver.received(Array("\r\nOK\r\n\r\n+QIOPEN: 4,0\r\n".utf8), now: .zero)
        var opened = false
        while let e = driver.nextEvent() { if e == .opened(plain, nil) { opened = true } }
        #expect(opened)
        #expect(throws: ModemError.wrongState) { try driver.sendDatagram(plain, to: "192.0.2.10", port: 7, [1][...], now: .zero) }
        try driver.send(plain, [1][...], now: .zero)
        #expect(driver.nextWrite().map { String(decoding: $0.parts.flatMap { Array($0) }, as: UTF8.self) } == "AT+QISEND=4,1\r")
    }

    @Test(arguments: [("10.7.76.34", true), ("0.0.0.0", true), ("255.255.255.255", true), ("001.2.3.4", true),
                      ("1.2.3", false), ("1.2.3.4.5", false), ("1..3.4", false), ("1.2.3.256", false),
                      ("1.2.3.1000", false), ("a.b.c.d", false), ("+1.2.3.4", false), ("", false)])
    func dottedIPv4(_ text: String, _ valid: Bool) {
        #expect(IPv4Dotted.isValid(text) == valid)
    }
}
