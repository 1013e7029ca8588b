import Bridge
import Buffers
import Sys

/// What `stats`, `flows` and `status` share: connect to the daemon's stats socket, send
/// one request, print the reply as a table, as JSON or (stats only) as Prometheus text,
/// once or every `--watch N` seconds.
enum StatsClientCommand {
    static let commonOptions: [OptionSpec] = [
        OptionSpec("socket", .value(placeholder: "PATH"), "the daemon's stats socket (default \(StatsServer.defaultPath))"),
        OptionSpec("json", .flag, "print the daemon's JSON reply, one object per line"),
        OptionSpec("watch", .value(placeholder: "N"), "refresh every N seconds (1 to 3600) until interrupted"),
    ]

    enum Format { case table, json, prometheus }

    static func run(_ name: String, _ request: StatsRequest, _ options: ParsedOptions, table: (JSONValue) -> String) -> ExitCode {
        let socket = options.value("socket") ?? StatsServer.defaultPath
        let watch: Int?
        do throws(UsageError) {
            watch = try options.int("watch", in: 1...3600)
            if !options.positionals.isEmpty { throw UsageError("unexpected argument '\(options.positionals[0])'; see --help") }
            if options.has("json") && options.has("prometheus") { throw UsageError("--json and --prometheus exclude each other") }
        } catch {
            StandardStream.error.write("tun2modem \(name): \(error.message)\n")
            return .usage
        }
        let format: Format = options.has("prometheus") ? .prometheus : options.has("json") ? .json : .table
        let wire: StatsRequest = format == .prometheus ? .metrics : request

        let client: StatsClient
        do {
            client = try StatsClient(path: socket)
        } catch {
            StandardStream.error.write("tun2modem \(name): \(error)\n")
            return .unavailable
        }
        while true {
            let reply: String
            do {
                reply = try client.send(wire)
            } catch {
                StandardStream.error.write("tun2modem \(name): \(error)\n")
                switch error {
                case .refused, .replyTooLong: return .software
                default: return .unavailable
                }
            }
            var out: String
            switch format {
            case .json: out = reply + "\n"
            case .prometheus: out = reply
            case .table:
                do {
                    out = table(try JSONValue.parse(reply))
                } catch {
                    StandardStream.error.write("tun2modem \(name): the daemon's reply is not valid: \(error)\n")
                    return .software
                }
                if let watch {
                    // Clear and home, then a header, so the table refreshes in place.
                    out = "\u{1B}[H\u{1B}[2J" + "tun2modem \(name) every \(watch) s (Ctrl-C stops)\n\n" + out
                }
            }
            StandardStream.output.write(out)
            guard let watch else { return .ok }
            var none: [PollRequest] = []
            _ = try? Poll.wait(&none, timeout: .seconds(watch))
        }
    }
}
