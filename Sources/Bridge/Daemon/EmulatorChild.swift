import Buffers
import Modems
import Sys

/// The built-in modem emulator, `tun2modem-sim`, run as a child on a pty: found beside the
/// daemon's own executable, started (its sockets in a network namespace, if asked: its
/// `--netns`), its `pty: /dev/pts/N` line read, stopped with SIGTERM when the daemon ends.
final class EmulatorChild {
    var child: ChildProcess
    /// Becomes readable when the child exits (`pidfd_open`).
    let exitDescriptor: FileDescriptor
    /// The child's stdout, drained into the log so it never fills and blocks the child.
    let output: FileDescriptor
    let ptyPath: String
    private var lineBuffer: [UInt8] = []

    private init(child: consuming ChildProcess, exitDescriptor: consuming FileDescriptor,
                 output: consuming FileDescriptor, ptyPath: String) {
        self.child = child
        self.exitDescriptor = exitDescriptor
        self.output = output
        self.ptyPath = ptyPath
    }

    /// Where `tun2modem-sim` is: next to the running `tun2modem`.
    static func executablePath() -> String? {
        var directories: [String] = []
        if let argv0 = CommandLine.arguments.first, let slash = argv0.lastIndex(of: "/") {
            directories.append(String(argv0[..<slash]))
        }
        if let exe = Self.ownExecutableFromMaps(), let slash = exe.lastIndex(of: "/") {
            directories.append(String(exe[..<slash]))
        }
        for directory in directories {
            let candidate = (directory.isEmpty ? "" : directory) + "/tun2modem-sim"
            if (try? FileDescriptor.open(candidate, .readOnly)) != nil { return candidate }
        }
        return nil
    }

    /// The path of our executable: the first file mapping in /proc/self/maps (Sys offers no
    /// readlink of /proc/self/exe).
    private static func ownExecutableFromMaps() -> String? {
        guard let fd = try? FileDescriptor.open("/proc/self/maps", .readOnly) else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let attempt = buffer.withUnsafeMutableBytes { raw in Result { () throws(SysError) in try fd.read(into: raw) } }
        guard case .success(.processed(let n)) = attempt, n > 0 else { return nil }
        let firstLine = buffer[0..<n].split(separator: UInt8(ascii: "\n")).first ?? []
        guard let slash = firstLine.firstIndex(of: UInt8(ascii: "/")) else { return nil }
        return String(decoding: firstLine[slash...], as: UTF8.self)
    }

    /// `baud`, when given, throttles the emulator's line like a real UART at that speed.
    static func start(model: ModemModel, netns: String?, arguments: [String], baud: Int?,
                      timeout: Duration = .seconds(10)) throws(DaemonError) -> EmulatorChild {
        guard let sim = Self.executablePath() else {
            throw DaemonError("the emulator tun2modem-sim is not beside tun2modem",
                              fix: "build or install both: swift build puts them in .build/debug/")
        }
        // The emulator takes "--key value" only: "--key=value" is split for it.
        var argv = ["--model", model.rawValue] + arguments.flatMap { word -> [String] in
            guard word.hasPrefix("--"), let eq = word.firstIndex(of: "=") else { return [word] }
            return [String(word[..<eq]), String(word[word.index(after: eq)...])]
        }
        if let baud, !arguments.contains("--baud"), !arguments.contains(where: { $0.hasPrefix("--baud=") }) {
            argv += ["--baud", String(baud)]
        }
        // The emulator enters the namespace itself (setns) before it opens any socket; its
        // pty is not namespaced, so the daemon opens it from where it is.
        if let netns { argv += ["--netns", netns] }
        // The emulator goes when the daemon goes, even when the daemon is killed outright.
        argv.append("--exit-with-parent")
        var child: ChildProcess
        do {
            child = try ChildProcess.spawn(sim, arguments: argv, captureStandardOutput: true,
                                           nonblockingOutput: true)
        } catch {
            throw DaemonError("cannot start the emulator: \(error)", fix: "check \(sim)")
        }
        guard let output = child.standardOutput.take() else {
            throw DaemonError("the emulator's output pipe is missing", fix: "a bug in tun2modem")
        }
        let exitFD: FileDescriptor
        do { exitFD = try child.exitDescriptor() } catch {
            _ = try? child.send(.kill)
            _ = try? child.wait()
            throw DaemonError("cannot watch the emulator: \(error)", fix: "Linux 5.3 or later has pidfd_open")
        }
        // Read up to the first line: "pty: /dev/pts/N".
        var line: [UInt8] = []
        var rest: [UInt8] = []
        let deadline = MonotonicClock.now() + timeout
        var buffer = [UInt8](repeating: 0, count: 512)
        reading: while MonotonicClock.now() < deadline {
            var requests = [PollRequest(fd: output.rawValue, events: .readable)]
            _ = try? Poll.wait(&requests, timeout: max(.zero, deadline - MonotonicClock.now()))
            let attempt = buffer.withUnsafeMutableBytes { raw in Result { () throws(SysError) in try output.read(into: raw) } }
            switch attempt {
            case .success(.processed(0)), .failure:
                break reading
            case .success(.processed(let n)):
                line += buffer[0..<n]
                if let nl = line.firstIndex(of: UInt8(ascii: "\n")) {
                    rest = Array(line[(nl + 1)...])
                    line = Array(line[..<nl])
                    break reading
                }
            case .success(.wouldBlock):
                continue
            }
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("pty: /") else {
            _ = try? child.send(.kill)
            _ = try? child.wait()
            throw DaemonError("the emulator did not start (it said '\(text)')",
                              fix: "run \(sim) --model \(model.rawValue) by hand to see why")
        }
        let made = EmulatorChild(child: child, exitDescriptor: exitFD, output: output,
                                 ptyPath: String(text.dropFirst("pty: ".count)))
        made.lineBuffer = rest
        return made
    }

    /// Lines the emulator printed since the last call (complete lines only; bounded).
    func drainOutput() -> [String] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<16 {
            let attempt = buffer.withUnsafeMutableBytes { raw in Result { () throws(SysError) in try self.output.read(into: raw) } }
            guard case .success(.processed(let n)) = attempt, n > 0 else { break }
            self.lineBuffer += buffer[0..<n]
        }
        var lines: [String] = []
        while let nl = self.lineBuffer.firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(String(decoding: self.lineBuffer[..<nl], as: UTF8.self))
            self.lineBuffer.removeFirst(nl + 1)
        }
        if self.lineBuffer.count > 4096 { self.lineBuffer.removeAll() }
        return lines
    }

    /// The exit status, once the exit descriptor was readable.
    func reap() -> ExitStatus? { try? self.child.tryWait() }

    /// SIGTERM, then up to `grace` for it to go, then SIGKILL.
    func stop(grace: Duration = .seconds(2)) {
        guard (try? self.child.tryWait()) == nil else { return }
        // Refused (another user's process): waiting could block forever; leave it.
        guard (try? self.child.send(.terminate)) != nil else { return }
        let deadline = MonotonicClock.now() + grace
        while MonotonicClock.now() < deadline {
            var requests = [PollRequest(fd: self.exitDescriptor.rawValue, events: .readable)]
            _ = try? Poll.wait(&requests, timeout: max(.zero, deadline - MonotonicClock.now()))
            if (try? self.child.tryWait()) != nil { return }
        }
        _ = try? self.child.send(.kill)
        _ = try? self.child.wait()
    }
}
