// tun2modem: the daemon and its CLI. One file per subcommand; each declares its options
// once (Bridge.OptionTable) and answers `--help` itself.
import Bridge

let arguments = Array(CommandLine.arguments.dropFirst())
exit(with: Dispatch.run(arguments))
