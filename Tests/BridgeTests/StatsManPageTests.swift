import Foundation
import Testing

/// The man pages: clean under mandoc's linter, and in step with the options the binary
/// really takes (its `--help`, generated from the same option tables as the parser).
@Suite struct StatsManPageTests {
    static let manDirectory = repositoryRoot.appendingPathComponent("man")

    static var mandoc: String? {
        ["/usr/bin/mandoc", "/usr/local/bin/mandoc"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `-W warning`: warnings and errors. mandoc's STYLE level also reports "referenced
    /// manual not found" for pages not installed on this machine, which says nothing of ours.
    @Test(arguments: ["tun2modem.8", "tun2modem.conf.5", "tun2modem-sim.1"])
    func lintClean(page: String) throws {
        let path = Self.manDirectory.appendingPathComponent(page).path
        guard FileManager.default.fileExists(atPath: path) else {
            if page == "tun2modem-sim.1" {
                print("SKIP lint of \(page): not in this tree yet (the sim helper writes it)")
                return
            }
            Issue.record("man/\(page) is missing")
            return
        }
        guard let mandoc = Self.mandoc else {
            Issue.record("mandoc is not installed: run scripts/deps")
            return
        }
        let r = try runProgram(mandoc, ["-Tlint", "-W", "warning", path])
        #expect(r.status == 0, "\(r.out)\(r.err)")
        #expect(r.out.isEmpty, "\(r.out)")
        #expect(!r.err.contains("WARNING") && !r.err.contains("ERROR"), "\(r.err)")
    }

    /// The linter must notice a broken page, or the test above proves nothing.
    @Test func lintCatchesABrokenPage() throws {
        guard let mandoc = Self.mandoc else { Issue.record("mandoc is not installed: run scripts/deps"); return }
        let path = NSTemporaryDirectory() + "broken-\(getpid()).8"
        try ".Dd November 21, 2026\n.Dt BROKEN 8\n.Os\n.Sh NAME\n.Nm broken\n.Bl -tag\n.It x\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try runProgram(mandoc, ["-Tlint", "-W", "warning", path])
        #expect(r.status != 0)
    }

    /// Every key of tun2modem.conf(5) is a long option of `run` and every option of `run`
    /// but `--config` is a key there.
    @Test func configPageKeysAreRunsOptions() throws {
        guard let runOptions = try Self.options(of: "run") else {
            print("SKIP config keys check: this binary has no 'run' command yet (h/bridge not merged)")
            return
        }
        let page = try String(contentsOf: Self.manDirectory.appendingPathComponent("tun2modem.conf.5"), encoding: .utf8)
        let section = page.components(separatedBy: ".Sh KEYS")[1].components(separatedBy: ".Sh ")[0]
        let keys = section.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix(".It Ic ") else { return nil }
            return line.split(separator: " ")[2].description
        }
        #expect(Set(keys).count == keys.count, "a key is listed twice")
        #expect(Set(keys) == runOptions.subtracting(["config"]))
    }

    /// tun2modem(8) names every command of `tun2modem --help` and every option of each
    /// command's `--help`.
    @Test func commandPageCoversEveryCommandAndOption() throws {
        let page = try String(contentsOf: Self.manDirectory.appendingPathComponent("tun2modem.8"), encoding: .utf8)
        let overview = try runProgram(builtExecutable("tun2modem"), ["--help"])
        let commands = overview.out.components(separatedBy: "commands:\n")[1].components(separatedBy: "\n\n")[0]
            .split(separator: "\n").map { $0.split(separator: " ")[0].description }
        #expect(commands.contains("probe") && commands.contains("stats") && commands.contains("flows") && commands.contains("status"))
        for command in commands {
            #expect(page.contains(".Ss \(command)\n"), "no section for \(command)")
            #expect(page.contains(".Cm \(command)\n"), "\(command) is not in the synopsis")
            for option in try Self.options(of: command) ?? [] {
                #expect(page.contains("Fl \\-\(option)"), "tun2modem \(command) --\(option) is not in tun2modem.8")
            }
        }
    }

    /// tun2modem-sim(1) names every option of `tun2modem-sim --help`.
    @Test func simPageCoversEveryOption() throws {
        let page = Self.manDirectory.appendingPathComponent("tun2modem-sim.1").path
        guard FileManager.default.fileExists(atPath: page) else {
            print("SKIP tun2modem-sim.1 options: the page is not in this tree yet")
            return
        }
        let text = try String(contentsOfFile: page, encoding: .utf8)
        let help = try runProgram(builtExecutable("tun2modem-sim"), ["--help"])
        let options = help.out.components(separatedBy: "options:\n")[1].components(separatedBy: "\n\n")[0]
            .split(separator: "\n").compactMap { line -> String? in
                let word = line.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) ?? ""
                return word.hasPrefix("--") ? String(word.dropFirst(2)) : nil
            }
        #expect(options.count >= 10)
        for option in options { #expect(text.contains("Fl \\-\(option)"), "tun2modem-sim --\(option) is not in tun2modem-sim.1") }
    }

    /// The long option names in `tun2modem COMMAND --help`; nil when there is no such command.
    static func options(of command: String) throws -> Set<String>? {
        let r = try runProgram(builtExecutable("tun2modem"), [command, "--help"])
        guard r.status == 0 else { return nil }
        let lines = r.out.components(separatedBy: "options:\n").dropFirst().first ?? ""
        return Set(lines.split(separator: "\n").compactMap { line in
            let word = line.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) ?? ""
            return word.hasPrefix("--") ? String(word.dropFirst(2)) : nil
        })
    }
}
