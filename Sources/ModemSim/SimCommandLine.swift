/// The `tun2modem-sim` command line.
public struct SimCommandLine: Sendable {
    public var model: ModelProfile
    public var link: String?
    public var baud: Int?
    public var latencyMilliseconds = 0
    public var hostsFile: String?
    public var seed: UInt64 = 1
    public var urcRate = 0.05
    public var transcript: String?
    public var faults: [ScheduledFault] = []
    public var control: String?
    /// A network namespace (name under /run/netns, or a path) to open the real sockets in.
    public var netns: String?
    /// Exit (as on SIGTERM) when the parent process ends, however it ends.
    public var exitWithParent = false

    public enum Outcome: Sendable {
        case run(SimCommandLine)
        case help
        /// A usage error: print the message and `usage`, exit 64 (EX_USAGE).
        case usageError(String)
    }

    public static let usage = """
        usage: tun2modem-sim --model MODEL [--link PATH] [--baud N] [--latency-ms N]
                             [--hosts FILE] [--seed N] [--urc-rate R] [--transcript FILE]
                             [--control PATH] [--netns NAME] [--exit-with-parent]
                             [--fault SPEC]...
        """

    public static var help: String {
        let models = ModelProfile.all.map { "  \($0.name.padding(8))\(dialectText($0.dialect))" }.joined(separator: "\n")
        return """
            tun2modem-sim: a cellular modem (AT socket commands) on a pseudo-terminal, with real
            sockets behind it. Prints "pty: /dev/pts/N" first, then serves until SIGTERM/SIGINT.

            \(usage)

            options:
              --model MODEL       the modem to emulate (below)
              --link PATH         also make PATH a symlink to the pty
              --baud N            throttle each direction to N/10 bytes/s (8N1); default unthrottled
              --latency-ms N      processing time added to every command line
              --hosts FILE        /etc/hosts-format names for DNS and connects, before the OS resolver
              --seed N            seed of every random choice (URC timing, garbage); default 1
              --urc-rate R        probability (0..1) that a URC is held and delivered between the
                                  next command's response and its final result; default 0.05
              --transcript FILE   log every byte each way, timestamped, escaped
              --control PATH      Unix socket taking fault lines, answered "ok" or "error: ..."
              --netns NAME        open the real sockets in network namespace NAME (/run/netns/NAME,
                                  or a path); needs root
              --exit-with-parent  stop, as on SIGTERM, when the process that started this one
                                  ends (even by SIGKILL); the daemon passes it to its emulator
              --fault SPEC        schedule a fault (repeatable)
              --help              this text

            models:
            \(models)

            faults (--fault NAME@TIME[+DURATION][:ARG], times like 500ms or 5s from start-up):
              reboot@T            reboot: every socket lost, then RDY and the boot URCs
              netloss@T[+D]       the network drops the data connection (back after D)
              netback@T           the network is back
              remote-close@T:ID   the peer closes socket ID
              sendfull@T[+D]      every send fails as if the send buffer were full (for D)
              garbage@T:N         N random bytes appear on the line
              silence@T+D         the modem answers nothing for D

            control socket lines: reboot | netloss | netback | remote-close ID | sendfull on|off
                                  | garbage N | silence SECONDS
            exit status: 0 after SIGTERM/SIGINT, 64 usage error, 69 namespace unavailable,
                         1 other run-time error
            """
    }

    static func dialectText(_ d: DialectKind) -> String {
        switch d {
        case .quectelCat1: return "Quectel LTE Cat-1 (AT+QIOPEN/QISEND/QIRD)"
        case .quectelNB: return "Quectel NB-IoT (AT+QIOPEN/QISEND/QIRD, BC dialect)"
        case .simcom7028: return "SIMCom NB-IoT (AT+NETOPEN/CIPOPEN/CIPSEND/CIPRXGET)"
        case .oneMOCat1: return "China Mobile OneMO Cat-1 (AT+MIPOPEN/MIPSEND/MIPRD)"
        case .oneMONB: return "China Mobile OneMO NB-IoT (AT+MIPOPEN/MIPSEND/MIPRD, no > mode)"
        }
    }

    public static func parse(_ arguments: [String]) -> Outcome {
        var model: ModelProfile? = nil
        var line = SimCommandLine(model: ModelProfile.all[0])
        var i = 0
        let validModels = ModelProfile.all.map(\.name).joined(separator: ", ")
        func value(_ flag: String) -> String? {
            guard i + 1 < arguments.count else { return nil }
            i += 1
            return arguments[i]
        }
        while i < arguments.count {
            let flag = arguments[i]
            switch flag {
            case "--help", "-h":
                return .help
            case "--model":
                guard let v = value(flag) else { return .usageError("--model needs a value (valid: \(validModels))") }
                guard let p = ModelProfile.named(v) else { return .usageError("unknown model '\(v)' (valid: \(validModels))") }
                model = p
            case "--link":
                guard let v = value(flag) else { return .usageError("--link needs a path") }
                line.link = v
            case "--baud":
                guard let v = value(flag), let n = Int(v), n >= 10, n <= 10_000_000 else { return .usageError("--baud needs a rate from 10 to 10000000") }
                line.baud = n
            case "--latency-ms":
                guard let v = value(flag), let n = Int(v), n >= 0, n <= 600_000 else { return .usageError("--latency-ms needs 0 to 600000") }
                line.latencyMilliseconds = n
            case "--hosts":
                guard let v = value(flag) else { return .usageError("--hosts needs a file") }
                line.hostsFile = v
            case "--seed":
                guard let v = value(flag), let n = UInt64(v) else { return .usageError("--seed needs a non-negative integer") }
                line.seed = n
            case "--urc-rate":
                guard let v = value(flag), let r = Double(v), r >= 0, r <= 1 else { return .usageError("--urc-rate needs a number from 0 to 1") }
                line.urcRate = r
            case "--transcript":
                guard let v = value(flag) else { return .usageError("--transcript needs a file") }
                line.transcript = v
            case "--control":
                guard let v = value(flag) else { return .usageError("--control needs a path") }
                line.control = v
            case "--netns":
                guard let v = value(flag), !v.isEmpty else { return .usageError("--netns needs a namespace name") }
                line.netns = v
            case "--exit-with-parent":
                line.exitWithParent = true
            case "--fault":
                guard let v = value(flag) else { return .usageError("--fault needs a spec (NAME@TIME[+DURATION][:ARG])") }
                do { line.faults.append(try ScheduledFault.parse(v)) } catch { return .usageError(error.description) }
            default:
                return .usageError("unknown option '\(flag)' (valid: --model, --link, --baud, --latency-ms, --hosts, --seed, --urc-rate, --transcript, --control, --netns, --exit-with-parent, --fault, --help)")
            }
            i += 1
        }
        guard let model else { return .usageError("--model is required (valid: \(validModels))") }
        line.model = model
        return .run(line)
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
