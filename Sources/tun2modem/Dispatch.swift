import Bridge
import Sys

/// Exit codes from sysexits(3): what scripts and systemd act on.
enum ExitCode: Int32 {
    case ok = 0
    /// EX_USAGE: the command line is wrong.
    case usage = 64
    /// EX_UNAVAILABLE: the modem or the data connection is not available.
    case unavailable = 69
    /// EX_SOFTWARE: an internal error.
    case software = 70
}

/// A subcommand: its name, one line for the overview, and its own `--help`.
protocol Subcommand: Sendable {
    static var name: String { get }
    static var summary: String { get }
    static var options: OptionTable { get }
    static var usage: String { get }
    /// Runs with the words after the subcommand's name.
    static func run(_ options: ParsedOptions) -> ExitCode
}

extension Subcommand {
    static func help() -> String {
        "usage: tun2modem \(Self.usage)\n\n\(Self.summary)\n\noptions:\n" + Self.options.helpText()
    }
}

/// Finds the subcommand and runs it. New subcommands (run, stats, ...) add one line here.
enum Dispatch {
    static let subcommands: [any Subcommand.Type] = [RunCommand.self, ProbeCommand.self, StatsCommand.self, FlowsCommand.self, StatusCommand.self]

    static func run(_ arguments: [String]) -> ExitCode {
        guard let first = arguments.first, first != "--help", first != "-h", first != "help" else {
            StandardStream.output.write(self.overview() + "\n")
            return arguments.isEmpty ? .usage : .ok
        }
        guard let command = self.subcommands.first(where: { $0.name == first }) else {
            StandardStream.error.write("tun2modem: unknown command '\(first)'\n\(self.overview())\n")
            return .usage
        }
        let rest = Array(arguments.dropFirst())
        if rest.contains("--help") || rest.contains("-h") {
            StandardStream.output.write(command.help())
            return .ok
        }
        do {
            let parsed = try command.options.parse(arguments: rest)
            return command.run(parsed)
        } catch {
            StandardStream.error.write("tun2modem \(command.name): \(error.message)\n")
            return .usage
        }
    }

    static func overview() -> String {
        var text = "usage: tun2modem COMMAND [OPTIONS]\n\ncommands:\n"
        for c in self.subcommands {
            text += "  \(c.name)" + String(repeating: " ", count: max(1, 10 - c.name.count)) + c.summary + "\n"
        }
        text += "\n'tun2modem COMMAND --help' describes a command's options."
        return text
    }
}
