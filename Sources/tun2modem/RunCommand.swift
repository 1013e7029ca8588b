import Bridge
import Sys

/// `tun2modem run`: the daemon. Options come from the config file (`/etc/tun2modem.conf`,
/// or `--config PATH`) overridden by the command line, through one option table. Exit 64
/// for usage errors, 69 when something it needs is unavailable (TUN, root, the modem's
/// device), 0 after SIGTERM/SIGINT.
enum RunCommand: Subcommand {
    static let name = "run"
    static let summary = "Run the daemon: a TUN interface whose TCP, UDP, DNS and ping go through the modem's AT sockets."
    static let usage = "run [--config PATH] (--device PATH | --sim MODEL [--sim-netns NAME]) [--model auto|MODEL] [--baud N] "
        + "[--rtscts] [--apn APN] [--tun NAME] [--mtu N] [--address CIDR] [--route CIDR]... [--persist] [--user NAME] "
        + "[--stats-socket PATH] [--log-level LEVEL]"
    static var options: OptionTable { RunOptions.table }

    static func run(_ commandLine: ParsedOptions) -> ExitCode {
        let options: ParsedOptions
        let settings: DaemonSettings
        do {
            options = try self.withConfigFile(commandLine)
            settings = try DaemonSettings(options)
        } catch {
            StandardError.write("tun2modem run: \(error.message)\n")
            return .usage
        }
        let style = Log.style(environment: { Environment.value($0) })
        let log = Log(threshold: settings.logLevel, style: style, now: { WallClock.now().description },
                      sink: { StandardStream.error.write($0) })
        let configPath = commandLine.value("config")
        let daemon: Daemon
        do {
            daemon = try Daemon(settings: settings, log: log) { log in
                // Only the log level applies without a restart.
                guard let reread = try? self.withConfigFile(commandLine, path: configPath),
                      let level = reread.value("log-level").flatMap(Log.Level.init(name:)) else { return }
                log.threshold = level
            }
        } catch {
            StandardError.write("tun2modem run: \(error.problem)\n  fix: \(error.fix)\n")
            return .unavailable
        }
        return daemon.run() == 0 ? .ok : .software
    }

    /// The config file's options under the command line's. A missing default file is fine;
    /// a missing `--config` file is a usage error.
    static func withConfigFile(_ commandLine: ParsedOptions, path explicit: String? = nil) throws(UsageError) -> ParsedOptions {
        let path = explicit ?? commandLine.value("config") ?? RunOptions.defaultConfigFile
        guard let text = ConfigText.read(path) else {
            if explicit != nil || commandLine.has("config") {
                throw UsageError("--config: cannot read '\(path)'")
            }
            return commandLine
        }
        let fromFile = try RunOptions.table.parse(configText: text, path: path)
        return fromFile.overridden(by: commandLine)
    }
}

/// Reads a small text file whole (a config file: at most 1 MiB).
enum ConfigText {
    static func read(_ path: String) -> String? {
        guard let fd = try? FileDescriptor.open(path, .readOnly) else { return nil }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while bytes.count < 1 << 20 {
            let attempt = buffer.withUnsafeMutableBytes { raw in Result { () throws(SysError) in try fd.read(into: raw) } }
            guard case .success(.processed(let n)) = attempt, n > 0 else { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
