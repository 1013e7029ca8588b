import Modems
import Sys

/// `tun2modem run`'s options, checked: every mistake is a `UsageError` naming the option
/// and where it came from.
public struct DaemonSettings: Sendable {
    /// Where the modem is.
    public enum ModemSource: Sendable, Equatable {
        /// A serial device.
        case device(String)
        /// The emulator, started as a child (in a network namespace, if named).
        case emulator(model: ModemModel, netns: String?, arguments: [String])
    }

    public var source: ModemSource
    /// nil: detect the model (`--model auto`); the emulator's model is known.
    public var model: ModemModel?
    public var baud: Int
    /// `--baud` was given: the emulator is throttled to it too (by default it runs unthrottled).
    public var baudGiven: Bool
    public var rtscts: Bool
    public var apn: String?
    public var tun: String
    public var mtu: Int
    public var address: IPPrefix
    public var routes: [IPPrefix]
    public var persist: Bool
    public var user: String?
    public var statsSocket: String
    public var logLevel: Log.Level

    public init(_ o: ParsedOptions) throws(UsageError) {
        if !o.positionals.isEmpty { throw UsageError("unexpected argument '\(o.positionals[0])'; see --help") }
        let device = o.value("device")
        if let sim = o.value("sim") {
            guard device == nil else { throw UsageError("--sim and --device exclude each other: use one modem") }
            guard let model = ModemModel(name: sim) else {
                throw UsageError("\(o.origin("sim")): unknown model '\(sim)'; one of "
                                 + ModemModel.allCases.map(\.rawValue).joined(separator: ", "))
            }
            self.source = .emulator(model: model, netns: o.value("sim-netns"), arguments: o.all("sim-arg"))
            self.model = model
        } else {
            guard let device, !device.isEmpty else {
                throw UsageError("a modem is needed: --device PATH (e.g. /dev/ttyUSB2) or --sim MODEL (the built-in emulator)")
            }
            if o.has("sim-netns") || o.has("sim-arg") { throw UsageError("--sim-netns and --sim-arg need --sim MODEL") }
            self.source = .device(device)
            self.model = nil
        }
        if let m = o.value("model"), m.lowercased() != "auto" {
            guard let known = ModemModel(name: m) else {
                throw UsageError("\(o.origin("model")): unknown model '\(m)'; use auto or one of "
                                 + ModemModel.allCases.map(\.rawValue).joined(separator: ", "))
            }
            if let sim = self.model, sim != known {
                throw UsageError("--model \(known.rawValue) contradicts --sim \(sim.rawValue)")
            }
            self.model = known
        }
        self.baud = try o.int("baud", in: 50...4_000_000) ?? 115_200
        self.baudGiven = o.has("baud")
        guard SerialPort.supportedBaudRates.contains(self.baud) else {
            throw UsageError("\(o.origin("baud")): \(self.baud) is not a rate Linux supports; e.g. 9600, 115200, 921600")
        }
        self.rtscts = o.has("rtscts")
        self.apn = o.value("apn")
        if let apn = self.apn {
            let ok = apn.utf8.count <= 99 && apn.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x2D || b == 0x5F
            }
            // An APN is labels of letters, digits and hyphens (3GPP TS 23.003 §9.1).
            guard ok else { throw UsageError("\(o.origin("apn")): '\(apn)' is not an APN (letters, digits, '.', '-', '_')") }
        }
        self.tun = o.value("tun") ?? RunOptions.defaultTun
        guard !self.tun.isEmpty, self.tun.utf8.count <= 15, !self.tun.contains("/"), !self.tun.contains(" ") else {
            throw UsageError("\(o.origin("tun")): '\(self.tun)' is not an interface name (1 to 15 characters, no '/' or space)")
        }
        self.mtu = try o.int("mtu", in: 576...65535) ?? RunOptions.defaultMTU
        let addressText = o.value("address") ?? RunOptions.defaultAddress
        do {
            self.address = try IPPrefix(parsing: addressText)
        } catch {
            throw UsageError("\(o.origin("address")): '\(addressText)' is not an address with a prefix length, e.g. 198.18.0.1/30")
        }
        var routes: [IPPrefix] = []
        for text in o.all("route") {
            do { routes.append(try IPPrefix(parsing: text)) } catch {
                throw UsageError("\(o.origin("route")): '\(text)' is not a network, e.g. 192.0.2.0/24 or default")
            }
        }
        self.routes = routes
        self.persist = o.has("persist")
        self.user = o.value("user")
        if self.user != nil, case .emulator(_, let netns?, _) = self.source {
            // The emulator needs root to enter the namespace, and a daemon that gave up root
            // could no longer stop it.
            throw UsageError("--user cannot be combined with --sim-netns \(netns): the emulator needs root there")
        }
        self.statsSocket = o.value("stats-socket") ?? RunOptions.defaultStatsSocket
        let level = o.value("log-level") ?? "info"
        guard let parsedLevel = Log.Level(name: level) else {
            throw UsageError("\(o.origin("log-level")): '\(level)' is not a level: error, warning, notice, info or debug")
        }
        self.logLevel = parsedLevel
    }
}
