/// What a SIGHUP can change in a running daemon.
///
/// On SIGHUP the daemon reads its config file again (same `--config`, same command line
/// on top), asks `plan` what differs, applies the `live` keys and logs each key of
/// `needsRestart` as not applied: the serial port, the TUN interface and the modem's data
/// connection are not torn down by a reload.
public enum ConfigReload {
    /// Keys the daemon applies without a restart.
    public static let liveKeys: Set<String> = ["log-level"]

    public struct Plan: Sendable, Equatable {
        /// Changed keys the daemon applies now, sorted.
        public var live: [String] = []
        /// Changed keys that take effect only after a restart, sorted.
        public var needsRestart: [String] = []

        public var isEmpty: Bool { self.live.isEmpty && self.needsRestart.isEmpty }

        /// One line for the log: what was applied and what was not.
        public var summary: String {
            if self.isEmpty { return "reload: no changes" }
            var parts: [String] = []
            if !self.live.isEmpty { parts.append("applied " + self.live.map { "--\($0)" }.joined(separator: ", ")) }
            if !self.needsRestart.isEmpty {
                parts.append("not applied (needs a restart) " + self.needsRestart.map { "--\($0)" }.joined(separator: ", "))
            }
            return "reload: " + parts.joined(separator: "; ")
        }
    }

    /// The keys whose values differ between `old` and `new` (added, removed or changed),
    /// split into those `liveKeys` allows now and the rest.
    public static func plan(old: ParsedOptions, new: ParsedOptions, liveKeys: Set<String> = ConfigReload.liveKeys) -> Plan {
        let keys = Set(old.values.keys).union(new.values.keys)
        var plan = Plan()
        for key in keys.sorted() where old.all(key) != new.all(key) {
            if liveKeys.contains(key) { plan.live.append(key) } else { plan.needsRestart.append(key) }
        }
        return plan
    }

    /// What SIGHUP does with the options: read the config file again (the same `--config`,
    /// or the default file), put the same command line on top, and compare with `current`.
    /// - Returns: the new options and the plan; on a bad file, the error (the daemon keeps
    ///   running with `current` and logs it).
    public static func reread(table: OptionTable, commandLine: ParsedOptions, current: ParsedOptions,
                              defaultPath: String = ConfigFile.defaultPath) -> Result<(options: ParsedOptions, plan: Plan), UsageError> {
        do {
            let options = try ConfigFile.load(table: table, commandLine: commandLine, defaultPath: defaultPath)
            return .success((options, self.plan(old: current, new: options)))
        } catch {
            return .failure(error)
        }
    }
}
