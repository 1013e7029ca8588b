import Foundation
import Testing
import Buffers
import Wire
@testable import Bridge

@Suite struct StatsJSONTests {
    @Test func statsReplyIsOneValidLineWithTheFigures() throws {
        let text = StatsJSON.stats(StatsFixture.stats(), flows: StatsFixture.flows(), now: StatsFixture.now)
        #expect(!text.contains("\n"))
        // Valid for Foundation's parser too, not only for ours.
        #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8))) != nil)
        let j = try JSONValue.parse(text)
        #expect(j["uptime_seconds"]?.double == 10)
        #expect(j["tun"]?["bytes_in"]?.uint64 == 1_040)
        #expect(j["tun"]?["packets_out"]?.uint64 == 12)
        #expect(j["modem"]?["bytes_sent"]?.uint64 == 600)
        #expect(j["modem"]?["send_fail"]?.uint64 == 2)
        // 11520 bytes × 10 bits over 10 s of a 115200 bit/s line: 10 %.
        #expect(j["serial"]?["utilisation_write"]?.double == 0.1)
        #expect(j["serial"]?["utilisation_read"]?.double == 0.05)
        let commands = try #require(j["at"]?["commands"]?.array)
        #expect(commands.map { $0["name"]?.string } == ["+QISEND", "+CSQ"])
        #expect(commands[0]["latency_ms"]?["count"]?.uint64 == 1)
        #expect(commands[0]["latency_ms"]?["sum"]?.double == 12)
        #expect(commands[1]["timeouts"]?.uint64 == 1)
        #expect(commands[1]["latency_ms"]?["count"]?.uint64 == 0)   // a timeout measures nothing
        #expect(j["at"]?["timeouts"]?.uint64 == 1)
        #expect(j["urcs"]?["recv"]?.uint64 == 3)
        #expect(j["drops"]?["no_socket"]?.uint64 == 2)
        #expect(j["drops"]?["bad_checksum"]?.uint64 == 1)
        #expect(j["drops"]?["total"]?.uint64 == 3)
        #expect(j["flows"]?["open"]?.int == 3)
        #expect(j["flows"]?["open_by_protocol"]?["tcp"]?.int == 2)
        #expect(j["flows"]?["opened"]?["tcp"]?.uint64 == 4)
        #expect(j["flows"]?["closed"]?["finished"]?.uint64 == 3)
        let states = try #require(j["flows"]?["open_by_state"]?.array)
        #expect(states.map { "\($0["protocol"]!.string!)/\($0["state"]!.string!)=\($0["count"]!.int!)" }
                == ["tcp/AWAITING-MODEM=1", "tcp/ESTABLISHED=1", "udp/open=1"])
        #expect(j["modem_sockets"]?["in_use"]?.int == 2)
        #expect(j["modem_sockets"]?["ids"]?.array?.compactMap { $0["in_use"]?.bool } == [false, true, false, true])
        #expect(j["dns"]?["cache_hits"]?.uint64 == 2)
        #expect(j["icmp_echo"]?["replies"]?.uint64 == 3)
    }

    @Test func everyDropReasonHasAKey() throws {
        let j = try JSONValue.parse(StatsJSON.stats(StatsFixture.stats(), flows: [], now: StatsFixture.now))
        for reason in DropReason.allCases { #expect(j["drops"]?[reason.name]?.uint64 != nil, "\(reason)") }
    }

    @Test func flowsReplyListsEachFlowWithItsAge() throws {
        let j = try JSONValue.parse(StatsJSON.flows(StatsFixture.flows(), now: StatsFixture.now))
        let flows = try #require(j["flows"]?.array)
        #expect(flows.count == 3)
        #expect(flows[0]["protocol"]?.string == "tcp")
        #expect(flows[0]["app"]?.string == "10.0.0.2:43512")
        #expect(flows[0]["remote"]?.string == "192.0.2.1:80")
        #expect(flows[0]["modem_socket"]?.int == 1)
        #expect(flows[0]["bytes_from_app"]?.uint64 == 600)
        #expect(flows[0]["bytes_to_app"]?.uint64 == 3_000)
        #expect(flows[0]["age_seconds"]?.double == 7)
        #expect(flows[1]["modem_socket"]?.isNull == true)
        #expect(flows[2]["app"]?.string == "[fd00::2]:5353")
    }

    @Test func statusReplySummarisesTheModem() throws {
        let j = try JSONValue.parse(StatsJSON.status(StatsFixture.stats(), flows: StatsFixture.flows(), now: StatsFixture.now))
        #expect(j["link"]?.string == "up")
        #expect(j["link_since_seconds"]?.double == 8)
        #expect(j["signal_dbm"]?.int == -67)
        #expect(j["ip"]?.string == "10.7.157.1")
        #expect(j["registration"]?.string == "home")
        #expect(j["last_error"]?.string == "QIOPEN 1: 566 (socket open failed)")
        #expect(j["last_error_age_seconds"]?.double == 5)
        #expect(j["flows_open"]?.int == 3)
        #expect(j["modem_sockets_in_use"]?.int == 2)
    }

    @Test func unknownSignalAndNoErrorAreNull() throws {
        let s = DaemonStats(startedAt: StatsFixture.start, baud: 9600)
        let j = try JSONValue.parse(StatsJSON.status(s, flows: [], now: StatsFixture.start))
        #expect(j["signal_dbm"]?.isNull == true)
        #expect(j["last_error"]?.isNull == true)
        #expect(j["link"]?.string == "starting")
        let stats = try JSONValue.parse(StatsJSON.stats(s, flows: [], now: StatsFixture.start))
        #expect(stats["serial"]?["utilisation_write"]?.isNull == true)   // no time has passed yet
    }

    /// Text from the modem (an error string with quotes and control bytes) must not break the line.
    @Test func modemTextIsEscaped() throws {
        var s = DaemonStats(startedAt: .zero, baud: 9600)
        s.modem.recordError("ERROR \"x\"\r\n+QIURC: \"closed\"\u{1}", at: .zero)
        let text = StatsJSON.status(s, flows: [], now: .zero)
        #expect(!text.contains("\n") && !text.contains("\r"))
        #expect(try JSONValue.parse(text)["last_error"]?.string == "ERROR \"x\"\r\n+QIURC: \"closed\"\u{1}")
    }
}

@Suite struct StatsCountersTests {
    @Test func atCommandNames() {
        #expect(ATCommandStats.name(of: "AT+QISEND=0,10\r") == "+QISEND")
        #expect(ATCommandStats.name(of: "AT+CEREG?") == "+CEREG")
        #expect(ATCommandStats.name(of: "at+csq") == "+CSQ")
        #expect(ATCommandStats.name(of: "ATE0") == "E0")
        #expect(ATCommandStats.name(of: "AT") == "AT")
        #expect(ATCommandStats.name(of: "hello") == "?")
        #expect(ATCommandStats.name(of: "AT+" + String(repeating: "A", count: 40)).count == 16)
        #expect(ATCommandStats.name(of: "AT+Q\"{}=1") == "+Q")
    }

    @Test func tablesStayBoundedAndOverflowToOther() {
        var at = ATCommandStats(capacity: 4)
        var urcs = NamedCounters(capacity: 4)
        for i in 0..<100 {
            at.sent(command: "AT+X\(i)")
            urcs.record("kind\(i)")
        }
        #expect(at.entries.count == 4)
        #expect(at.entries.last?.name == "other")
        #expect(at["other"]?.sent == 97)
        #expect(at.totalSent == 100)
        #expect(urcs.names == ["kind0", "kind1", "kind2", "other"])
        #expect(urcs["other"] == 97)
        #expect(urcs.total == 100)
    }

    @Test func dropCountsTakeWireReasonsAndComponentCounters() {
        var d = DropCounts()
        d.record(.fragmentTimeout as Wire.WireError)
        var wire = Wire.DropCounter()
        wire.record(.badChecksum)
        wire.record(.badChecksum)
        d.add(wire)
        d.add(.udpQueueFull, 5)
        #expect(d[.fragmentTimeout] == 1)
        #expect(d[.badChecksum] == 2)
        #expect(d[.udpQueueFull] == 5)
        #expect(d.total == 8)
    }

    @Test func modemSocketUseIgnoresIdsOutsideTheModel() {
        var u = ModemSocketUse()
        u.configure(count: 2)
        u.setInUse(1, true)
        u.setInUse(1, true)
        u.setInUse(7, true)
        u.setInUse(-1, true)
        #expect(u.inUse == [false, true])
        #expect(u.opens == [0, 1])
        u.setInUse(1, false)
        #expect(u.usedCount == 0)
    }
}
