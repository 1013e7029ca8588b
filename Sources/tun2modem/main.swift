// tun2modem: the daemon and its CLI. One file per subcommand; each declares its options
// once (Bridge.OptionTable) and answers `--help` itself.
import Sys

let arguments = Array(CommandLine.arguments.dropFirst())
CurrentProcess.exit(Dispatch.run(arguments).rawValue)
