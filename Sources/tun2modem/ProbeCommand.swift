import Bridge
import Buffers
import Modems
import Sys

/// `tun2modem probe`: open the serial port, identify the modem, bring the data connection
/// up, print what was found. Exit 0 when the connection is up, 69 with one line naming the
/// failed step and what to check, 64 for usage errors.
enum ProbeCommand: Subcommand {
    static let name = "probe"
    static let summary = "Identify the modem and bring its data connection up, then print what was found."
    static let usage = "probe --device PATH [--model auto|MODEL] [--baud N] [--rtscts] [--apn APN] [--timeout SECONDS] [--json]"
    static let options = OptionTable([
        OptionSpec("device", .value(placeholder: "PATH"), "serial device of the modem's AT port (required)"),
        OptionSpec("model", .value(placeholder: "MODEL"),
                   "auto (default: from ATI/AT+CGMM) or one of " + ModemModel.allCases.map(\.rawValue).joined(separator: ", ")),
        OptionSpec("baud", .value(placeholder: "N"), "line speed in bit/s (default 115200)"),
        OptionSpec("rtscts", .flag, "hardware flow control (RTS/CTS); off by default"),
        OptionSpec("apn", .value(placeholder: "APN"), "access point name to configure; default: keep the modem's"),
        OptionSpec("timeout", .value(placeholder: "SECONDS"),
                   "give up after this long (default: the manuals' timeouts, up to 150 s per step)"),
        OptionSpec("json", .flag, "print one JSON object instead of text"),
    ])

    struct Settings {
        var device: String
        var model: ModemModel?
        var baud: Int
        var rtscts: Bool
        var apn: String?
        var timeout: Duration?
        var json: Bool
    }

    static func settings(_ o: ParsedOptions) throws(UsageError) -> Settings {
        guard let device = o.value("device"), !device.isEmpty else {
            throw UsageError("--device PATH is required (the modem's AT serial port, e.g. /dev/ttyUSB2)")
        }
        var model: ModemModel?
        if let m = o.value("model"), m.lowercased() != "auto" {
            guard let known = ModemModel(name: m) else {
                throw UsageError("--model: unknown model '\(m)'; use auto or one of "
                                 + ModemModel.allCases.map(\.rawValue).joined(separator: ", "))
            }
            model = known
        }
        let baud = try o.int("baud", in: 50...4_000_000) ?? 115_200
        guard SerialPort.supportedBaudRates.contains(baud) else {
            throw UsageError("--baud: \(baud) is not a rate Linux supports; e.g. 9600, 115200, 921600")
        }
        let timeout = try o.int("timeout", in: 1...3600).map { Duration.seconds($0) }
        let apn = o.value("apn")
        if let apn {
            do { try ATCommandLineCheck.apn(apn) } catch { throw UsageError("--apn: \(error.message)") }
        }
        if !o.positionals.isEmpty {
            throw UsageError("unexpected argument '\(o.positionals[0])'; see --help")
        }
        return Settings(device: device, model: model, baud: baud, rtscts: o.has("rtscts"), apn: apn,
                        timeout: timeout, json: o.has("json"))
    }

    static func run(_ options: ParsedOptions) -> ExitCode {
        let s: Settings
        do {
            s = try self.settings(options)
        } catch {
            StandardStream.error.write("tun2modem probe: \(error.message)\n")
            return .usage
        }
        let outcome = ProbeRun.run(s)
        switch outcome {
        case .up(let connection, let capabilities, let model):
            let report = ProbeReport(connection: connection, capabilities: capabilities, model: model)
            StandardStream.output.write(s.json ? report.json() : report.text())
            return .ok
        case .failed(let line):
            StandardStream.error.write("tun2modem probe: \(line)\n")
            return .unavailable
        }
    }
}

/// What the CLI checks before an APN reaches an AT command line (the driver checks again).
enum ATCommandLineCheck {
    static func apn(_ apn: String) throws(UsageError) {
        guard apn.utf8.count <= 99 else { throw UsageError("longer than 99 bytes") }
        for b in apn.utf8 {
            let ok = (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
                || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
                || b == UInt8(ascii: "_")
            // An APN is labels of letters, digits and hyphens (3GPP TS 23.003 §9.1).
            guard ok else { throw UsageError("'\(apn)' holds a byte an APN cannot have") }
        }
    }
}
