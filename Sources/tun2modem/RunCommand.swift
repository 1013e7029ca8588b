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
            options = try ConfigFile.load(table: RunOptions.table, commandLine: commandLine)
            settings = try DaemonSettings(options)
        } catch {
            StandardStream.error.write("tun2modem run: \(error.message)\n")
            return .usage
        }
        let style = Log.style(environment: { Environment.value($0) })
        let log = Log(threshold: settings.logLevel, style: style, now: { WallClock.now().description },
                      sink: { StandardStream.error.write($0) })
        var running = options
        let daemon: Daemon
        do {
            daemon = try Daemon(settings: settings, log: log) { log in
                // SIGHUP: the file again under the same command line; only the log level
                // applies live (ConfigReload.liveKeys), the rest is named as needing a restart.
                switch ConfigReload.reread(table: RunOptions.table, commandLine: commandLine, current: running) {
                case .failure(let error):
                    log.warning("daemon", "SIGHUP: \(error.message); keeping the running options")
                case .success(let reread):
                    if let level = reread.options.value("log-level").flatMap(Log.Level.init(name:)) {
                        log.threshold = level
                    }
                    log.notice("daemon", "SIGHUP: \(reread.plan.summary)")
                    running = reread.options
                }
            }
        } catch {
            StandardStream.error.write("tun2modem run: \(error.problem)\n  fix: \(error.fix)\n")
            return .unavailable
        }
        return daemon.run() == 0 ? .ok : .software
    }
}
