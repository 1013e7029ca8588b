import Bridge

/// `tun2modem status`: the modem and the link at a glance.
enum StatusCommand: Subcommand {
    static let name = "status"
    static let summary = "Summarise the running daemon's modem and link: state, signal, IP, errors."
    static let usage = "status [--socket PATH] [--json] [--watch N]"
    static let options = OptionTable(StatsClientCommand.commonOptions)

    static func run(_ options: ParsedOptions) -> ExitCode {
        StatsClientCommand.run(self.name, .status, options, table: StatsText.status)
    }
}
