import Bridge

/// `tun2modem flows`: one line per open flow.
enum FlowsCommand: Subcommand {
    static let name = "flows"
    static let summary = "List the running daemon's open flows: protocol, endpoints, modem socket, state, bytes, age."
    static let usage = "flows [--socket PATH] [--json] [--watch N]"
    static let options = OptionTable(StatsClientCommand.commonOptions)

    static func run(_ options: ParsedOptions) -> ExitCode {
        StatsClientCommand.run(self.name, .flows, options, table: StatsText.flows)
    }
}
