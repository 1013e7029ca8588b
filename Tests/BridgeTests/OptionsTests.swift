import Testing
@testable import Bridge

@Suite struct OptionsTests {
    let table = OptionTable([
        OptionSpec("device", .value(placeholder: "PATH"), "serial device"),
        OptionSpec("baud", .value(placeholder: "N"), "line rate"),
        OptionSpec("route", .repeated(placeholder: "CIDR"), "route via the TUN"),
        OptionSpec("json", .flag, "print JSON"),
        OptionSpec("config", .value(placeholder: "PATH"), "config file", inConfigFile: false),
    ])

    @Test func parsesBothValueFormsFlagsAndRepeats() throws {
        let p = try table.parse(arguments: ["--device", "/dev/ttyS1", "--baud=921600", "--route", "default", "--route", "10.0.0.0/8", "--json", "extra"])
        #expect(p.value("device") == "/dev/ttyS1")
        #expect(try p.int("baud", in: 300...4_000_000) == 921_600)
        #expect(p.all("route") == ["default", "10.0.0.0/8"])
        #expect(p.has("json"))
        #expect(p.positionals == ["extra"])
    }

    @Test(arguments: [
        (["--bogus"], "unknown option '--bogus'; see --help"),
        (["--baud"], "--baud needs a value: --baud N"),
        (["--json=1"], "--json takes no value"),
        (["-d"], "unknown option '-d': options are long, e.g. --help"),
        (["--dev", "x"], "unknown option '--dev'; did you mean --device?"),
    ])
    func rejectsNonsenseWithAMessageNamingIt(args: [String], message: String) {
        #expect(throws: UsageError(message)) { try table.parse(arguments: args) }
    }

    @Test func integerRangeErrorNamesTheSource() throws {
        let file = try table.parse(configText: "\n# modem\nbaud = fast\n", path: "/etc/t.conf")
        #expect(throws: UsageError("/etc/t.conf:3: expected a whole number from 300 to 4000000, got 'fast'")) {
            try file.int("baud", in: 300...4_000_000)
        }
    }

    @Test func configFileTakesCommentsBlanksAndFlags() throws {
        let text = """
        # tun2modem.conf
        device = /dev/ttyUSB2   # the modem's AT port
           baud=115200
        json = yes
        route = default
        route = 192.0.2.0/24

        """
        let p = try table.parse(configText: text, path: "f")
        #expect(p.value("device") == "/dev/ttyUSB2")
        #expect(p.value("baud") == "115200")
        #expect(p.has("json"))
        #expect(p.all("route") == ["default", "192.0.2.0/24"])
        #expect(p.origin("baud") == "f:3")
    }

    @Test(arguments: [
        ("device /dev/x", "f:1: expected 'key = value', got 'device /dev/x'"),
        ("config = /x", "f:1: unknown key 'config'; did you mean --config?"),
        ("json = maybe", "f:1: json takes true or false, got 'maybe'"),
        ("baud =", "f:1: baud needs a value"),
    ])
    func configErrorsNameFileAndLine(text: String, message: String) {
        #expect(throws: UsageError(message)) { try table.parse(configText: text, path: "f") }
    }

    @Test func commandLineOverridesTheFileOptionByOption() throws {
        let file = try table.parse(configText: "device = /dev/a\nbaud = 9600\nroute = default\n", path: "f")
        let cli = try table.parse(arguments: ["--baud", "115200", "--route", "10.0.0.0/8"])
        let merged = file.overridden(by: cli)
        #expect(merged.value("device") == "/dev/a")
        #expect(merged.value("baud") == "115200")
        #expect(merged.all("route") == ["10.0.0.0/8"])
    }

    @Test func helpListsEveryOptionAligned() {
        let help = table.helpText()
        #expect(help.split(separator: "\n").count == 5)
        #expect(help.contains("  --route CIDR ...  route via the TUN"))
    }
}
