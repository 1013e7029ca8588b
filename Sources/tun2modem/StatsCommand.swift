import Bridge

/// `tun2modem stats`: the daemon's counters as a table, JSON or Prometheus text.
enum StatsCommand: Subcommand {
    static let name = "stats"
    static let summary = "Show the running daemon's counters: traffic, serial line, AT commands, drops, flows."
    static let usage = "stats [--socket PATH] [--json | --prometheus] [--watch N]"
    static let options = OptionTable(StatsClientCommand.commonOptions + [
        OptionSpec("prometheus", .flag, "print the Prometheus text the 'metrics' request returns"),
    ])

    static func run(_ options: ParsedOptions) -> ExitCode {
        StatsClientCommand.run(self.name, .stats, options, table: StatsText.stats)
    }
}
