import Modems

/// The options of `tun2modem run`, one table for the command line, the config file
/// (`/etc/tun2modem.conf` or `--config`) and `--help`.
public enum RunOptions {
    public static let defaultTun = "tun2modem0"
    /// The TUN's address when `--address` is not given: a /30 from 198.18.0.0/15, the
    /// range RFC 2544 sets aside for benchmarking, so it collides with no real network.
    public static let defaultAddress = "198.18.0.1/30"
    public static let defaultMTU = 1500
    public static let defaultStatsSocket = "/run/tun2modem/tun2modem.sock"
    public static let defaultConfigFile = "/etc/tun2modem.conf"

    public static let table = OptionTable([
        OptionSpec("config", .value(placeholder: "PATH"),
                   "config file of 'key = value' lines with these options' names (default \(defaultConfigFile))",
                   inConfigFile: false),
        OptionSpec("sim", .value(placeholder: "MODEL"),
                   "run the built-in modem emulator (tun2modem-sim) as a child instead of a real modem"),
        OptionSpec("sim-netns", .value(placeholder: "NAME"),
                   "start the emulator in network namespace NAME (its sockets reach that namespace's servers)"),
        OptionSpec("sim-arg", .repeated(placeholder: "ARG"),
                   "pass ARG to the emulator (e.g. --sim-arg=--hosts=FILE)"),
        OptionSpec("device", .value(placeholder: "PATH"), "serial device of the modem's AT port"),
        OptionSpec("model", .value(placeholder: "MODEL"),
                   "auto (default) or one of " + ModemModel.allCases.map(\.rawValue).joined(separator: ", ")),
        OptionSpec("baud", .value(placeholder: "N"), "line speed in bit/s (default 115200)"),
        OptionSpec("rtscts", .flag, "hardware flow control (RTS/CTS); off by default"),
        OptionSpec("apn", .value(placeholder: "APN"), "access point name to configure; default: keep the modem's"),
        OptionSpec("tun", .value(placeholder: "NAME"), "TUN interface to create or attach to (default \(defaultTun))"),
        OptionSpec("mtu", .value(placeholder: "N"), "MTU of the TUN interface (default \(defaultMTU))"),
        OptionSpec("address", .value(placeholder: "CIDR"),
                   "address of the TUN interface (default \(defaultAddress), from the RFC 2544 test range)"),
        OptionSpec("route", .repeated(placeholder: "CIDR"),
                   "route CIDR through the TUN ('default' is 0.0.0.0/0); none by default"),
        OptionSpec("persist", .flag, "leave the TUN interface, its address and routes in place on exit"),
        OptionSpec("user", .value(placeholder: "NAME"),
                   "drop to this user after creating the TUN and opening the serial port (default: stay)"),
        OptionSpec("stats-socket", .value(placeholder: "PATH"),
                   "Unix socket answering 'tun2modem stats' (default \(defaultStatsSocket))"),
        OptionSpec("log-level", .value(placeholder: "LEVEL"), "error, warning, notice, info (default) or debug"),
    ])
}
