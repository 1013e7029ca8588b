import Buffers
import Testing
import Wire
@testable import Bridge
@testable import Flows
@testable import Modems

/// Request/response when the modem holds back its data-ready notice (bugs-bridge.md: one
/// exchange in ten waited ~300 ms at the emulator's URC hold limit): after the request went
/// out the bridge reads anyway, at 50, 150 and 350 ms, and then stops asking.
@Suite struct DataProbeTests {
    /// A connected flow whose 100-byte request the modem has accepted; no notice yet.
    static func requestSent(_ h: BridgeCoreHarness) throws -> (socket: Int, iss: UInt32) {
        h.bringUp()
        let c = try h.connect()
        _ = try h.segmentsToApp()
        let request = [UInt8](repeating: 0x71, count: 100)
        h.fromApp(h.tcp([], seq: 1001, ack: c.iss &+ 1, payload: request))
        #expect(h.modem.takeRequests() == [.send(c.socket, request)])
        h.modem.push(.sendAccepted(ModemSocketID(c.socket), request.count))
        h.turn()
        #expect(h.modem.takeRequests().isEmpty)
        return c
    }

    @Test func aHeldDataNoticeDoesNotHoldUpTheAnswer() throws {
        let h = BridgeCoreHarness()
        let c = try Self.requestSent(h)
        h.advance(.milliseconds(49))
        #expect(h.modem.takeRequests().isEmpty)
        h.advance(.milliseconds(1))
        #expect(h.modem.takeRequests() == [.read(c.socket, max: 1500)])
        let answer = [UInt8](repeating: 0x61, count: 1024)
        h.modem.push(.received(ModemSocketID(c.socket), answer))
        h.turn()
        #expect(try h.segmentsToApp().flatMap(\.payload) == answer)
        #expect(h.core.counters.dataProbes == 1)
        // Data came: no more probes.
        h.advance(.seconds(1))
        #expect(h.modem.takeRequests().isEmpty)
    }

    @Test func probesBackOffAndStop() throws {
        let h = BridgeCoreHarness()
        let c = try Self.requestSent(h)
        var readsAt: [Int] = []
        for ms in 1...1000 {
            h.advance(.milliseconds(1))
            for r in h.modem.takeRequests() where r == .read(c.socket, max: 1500) {
                readsAt.append(ms)
                h.modem.push(.received(ModemSocketID(c.socket), []))
                h.turn()
            }
        }
        #expect(readsAt == [50, 150, 350])
        #expect(h.core.counters.dataProbes == 3)
    }

    @Test func aNoticeThatArrivesCancelsTheProbes() throws {
        let h = BridgeCoreHarness()
        let c = try Self.requestSent(h)
        h.modem.push(.dataReady(ModemSocketID(c.socket)))
        h.turn()
        #expect(h.modem.takeRequests() == [.read(c.socket, max: 1500)])
        h.modem.push(.received(ModemSocketID(c.socket), [1, 2, 3]))
        h.turn()
        h.advance(.seconds(1))
        #expect(h.modem.takeRequests().isEmpty)
        #expect(h.core.counters.dataProbes == 0)
    }

    @Test func aFlowStillSendingIsNotProbed() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        let c = try h.connect()
        _ = try h.segmentsToApp()
        let chunk = [UInt8](repeating: 0x55, count: 1460)
        h.fromApp(h.tcp([], seq: 1001, ack: c.iss &+ 1, payload: chunk))
        h.fromApp(h.tcp([], seq: 2461, ack: c.iss &+ 1, payload: chunk))
        #expect(h.modem.takeRequests() == [.send(c.socket, chunk)])
        h.modem.push(.sendAccepted(ModemSocketID(c.socket), chunk.count))
        h.turn()
        #expect(h.modem.takeRequests() == [.send(c.socket, chunk)])
        // The second send is still in the modem's hands when the probe falls due.
        h.advance(.milliseconds(60))
        #expect(h.modem.takeRequests().isEmpty)
        #expect(h.core.counters.dataProbes == 0)
    }
}
