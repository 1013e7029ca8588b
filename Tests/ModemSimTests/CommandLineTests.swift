import Buffers
import Foundation
import Testing
@testable import ModemSim

@Suite struct CommandLineTests {
    @Test func faultGrammar() throws {
        #expect(try ScheduledFault.parse("reboot@5s") == ScheduledFault(at: .seconds(5), fault: .reboot, end: nil))
        let s = try ScheduledFault.parse("sendfull@2s+3s")
        #expect(s.at == .seconds(2) && s.fault == .sendBufferFull(true))
        #expect(s.end?.after == .seconds(3) && s.end?.fault == .sendBufferFull(false))
        #expect(try ScheduledFault.parse("garbage@1s:64").fault == .garbage(64))
        #expect(try ScheduledFault.parse("silence@3s+5s").fault == .silence(.seconds(5)))
        #expect(try ScheduledFault.parse("netloss@250ms").at == .milliseconds(250))
        #expect(try ScheduledFault.parse("remote-close@1.5:3").fault == .remoteClose(linkID: 3))
    }

    @Test(arguments: ["reboot", "reboot@", "reboot@x", "silence@3s", "garbage@1s", "garbage@1s:-1", "reboot@1s:3", "melt@1s"])
    func badFaultsAreRejected(_ spec: String) {
        #expect(throws: ScheduledFault.ParseError.self) { try ScheduledFault.parse(spec) }
    }

    @Test func controlLines() {
        #expect((try? ControlCommand.parse("remote-close 2").get()) == .remoteClose(linkID: 2))
        #expect((try? ControlCommand.parse("sendfull off").get()) == .sendBufferFull(false))
        #expect((try? ControlCommand.parse("silence 2").get()) == .silence(.seconds(2)))
        #expect((try? ControlCommand.parse("sendfull maybe").get()) == nil)
        #expect((try? ControlCommand.parse("explode").get()) == nil)
    }

    @Test func unknownModelNamesTheChoices() {
        guard case .usageError(let message) = SimCommandLine.parse(["--model", "XYZ"]) else {
            Issue.record("accepted an unknown model")
            return
        }
        for m in ["EC600E", "EC800E", "BC26", "BC20", "SIM7028", "ML307A", "MN316"] { #expect(message.contains(m)) }
    }

    @Test func unknownFlagAndMissingModelAreUsageErrors() {
        guard case .usageError(let m1) = SimCommandLine.parse(["--model", "EC600E", "--frobnicate"]) else {
            Issue.record("accepted an unknown flag")
            return
        }
        #expect(m1.contains("--baud"))
        guard case .usageError = SimCommandLine.parse([]) else { Issue.record("ran without --model"); return }
    }

    @Test func fullCommandLine() {
        guard case .run(let c) = SimCommandLine.parse(["--model", "bc26", "--baud", "115200", "--latency-ms", "20",
                                                       "--seed", "7", "--fault", "reboot@1s", "--urc-rate", "0"]) else {
            Issue.record("rejected a valid line")
            return
        }
        #expect(c.model.name == "BC26" && c.baud == 115200 && c.latencyMilliseconds == 20 && c.seed == 7)
        #expect(c.faults.count == 1 && c.urcRate == 0)
    }

    @Test func helpListsModelsAndFaults() {
        for word in ["EC600E", "MN316", "reboot@", "netloss@", "sendfull@", "garbage@", "silence@", "remote-close@"] {
            #expect(SimCommandLine.help.contains(word))
        }
    }

    @Test func hostsFile() {
        let t = HostsTable(parsing: "# lab\n127.0.0.1 localhost echo.lab  # loop\n192.0.2.10\tweb.lab\n\nbad\n")
        #expect(t.addresses(for: "ECHO.lab") == ["127.0.0.1"])
        #expect(t.addresses(for: "web.lab") == ["192.0.2.10"])
        #expect(t.addresses(for: "bad") == nil)
    }

    @Test func transcriptLineEscapes() {
        let line = TranscriptFormat.line(at: .milliseconds(1500), host: false, [0x0D, 0x0A, 0x4F, 0x4B, 0x1A, 0x5C])
        #expect(line == "1.500000 modem< \\r\\nOK\\x1A\\\\\n")
    }
}

/// man/tun2modem-sim.1 documents what --help lists.
@Suite struct ManualPageTests {
    static let page: String = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("man/tun2modem-sim.1")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }()

    @Test func everyOptionModelAndFaultIsDocumented() {
        #expect(!Self.page.isEmpty)
        let flags = SimCommandLine.help.split(whereSeparator: { " \n[],".contains($0) })
            .filter { $0.hasPrefix("--") }.map { String($0.dropFirst(2)) }
        #expect(flags.count >= 11)
        for flag in Set(flags) { #expect(Self.page.contains("Fl \\-\(flag)"), "--\(flag) missing from the man page") }
        for model in ModelProfile.all { #expect(Self.page.contains("Cm \(model.name)"), "\(model.name) missing") }
        for fault in ScheduledFault.names { #expect(Self.page.contains("Li \(fault)@"), "\(fault) missing") }
    }
}
