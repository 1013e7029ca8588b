import Testing
@testable import Bridge
import Modems

/// `tun2modem run`'s options: one table for the command line and the config file, checked
/// into settings with a usage error that names the option and where it came from.
@Suite struct DaemonSettingsTests {
    func settings(_ words: [String], file: String? = nil) throws -> DaemonSettings {
        var options = try RunOptions.table.parse(arguments: words)
        if let file {
            options = try RunOptions.table.parse(configText: file, path: "/etc/tun2modem.conf").overridden(by: options)
        }
        return try DaemonSettings(options)
    }

    func usageError(_ words: [String], file: String? = nil) -> String? {
        do {
            _ = try self.settings(words, file: file)
            return nil
        } catch let error as UsageError {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    @Test func defaultsAreDocumented() throws {
        let s = try self.settings(["--sim", "ec600e"])
        #expect(s.source == .emulator(model: .ec600e, netns: nil, arguments: []))
        #expect(s.model == .ec600e)
        #expect(s.tun == "tun2modem0" && s.mtu == 1500 && s.baud == 115_200 && !s.baudGiven)
        #expect(s.address.description == RunOptions.defaultAddress)
        #expect(s.routes.isEmpty && !s.persist && s.user == nil && s.logLevel == .info)
        #expect(RunOptions.table.helpText().contains(RunOptions.defaultAddress))
    }

    @Test func aModemMustBeNamedOnce() {
        #expect(self.usageError([])?.contains("--device PATH") == true)
        #expect(self.usageError(["--sim", "EC600E", "--device", "/dev/ttyUSB2"])?.contains("exclude") == true)
        #expect(self.usageError(["--device", "/dev/ttyUSB2", "--sim-netns", "x"])?.contains("need --sim") == true)
        #expect(self.usageError(["--sim", "EC600E", "--model", "BC26"])?.contains("contradicts") == true)
        #expect(self.usageError(["--sim", "PDP11"])?.contains("unknown model") == true)
    }

    @Test(arguments: [
        (["--mtu", "100"], "--mtu"), (["--address", "10.0.0.300/24"], "--address"), (["--route", "nowhere"], "--route"),
        (["--baud", "12345"], "--baud"), (["--apn", "a;b"], "--apn"), (["--log-level", "loud"], "--log-level"),
        (["--tun", "a/b"], "--tun"), (["extra"], "unexpected argument"),
    ])
    func badValuesAreUsageErrorsNamingTheOption(_ words: [String], _ named: String) {
        let message = self.usageError(["--sim", "EC600E"] + words)
        #expect(message?.contains(named) == true, "\(message ?? "accepted")")
    }

    @Test func routesRepeatAndDefaultMeansEverything() throws {
        let s = try self.settings(["--device", "/dev/ttyUSB2", "--route", "default", "--route", "192.0.2.0/24"])
        #expect(s.routes.map(\.description) == ["0.0.0.0/0", "192.0.2.0/24"])
        #expect(s.source == .device("/dev/ttyUSB2") && s.model == nil)
    }

    @Test func theConfigFileSharesTheOptionsAndTheCommandLineWins() throws {
        let file = "# a modem on the UART\ndevice = /dev/ttyS1\nbaud = 921600\nmtu = 1400\nlog-level = debug\n"
        let s = try self.settings(["--mtu", "1280"], file: file)
        #expect(s.source == .device("/dev/ttyS1") && s.baud == 921_600 && s.baudGiven)
        #expect(s.mtu == 1280 && s.logLevel == .debug)
        let bad = self.usageError([], file: "device = /dev/ttyS1\nmtu = lots\n")
        #expect(bad?.contains("/etc/tun2modem.conf:2") == true, "\(bad ?? "accepted")")
    }
}
