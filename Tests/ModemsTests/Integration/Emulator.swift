import Foundation
import Glibc

/// The `tun2modem-sim` binary next to the test binary: started as a child per test, it
/// prints `pty: /dev/pts/N` first; `--control PATH` takes `reboot`, `netloss`,
/// `remote-close ID`, `sendfull on|off` lines.
enum EmulatorBinary {
    static let directory: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return (exe as NSString).deletingLastPathComponent
    }()

    /// `TUN2MODEM_SIM` names another emulator binary (same command line) to test against.
    static var simPath: String { ProcessInfo.processInfo.environment["TUN2MODEM_SIM"] ?? directory + "/tun2modem-sim" }
    static var cliPath: String { directory + "/tun2modem" }

    /// `--help` of the emulator, or nil when it is not built or does not run.
    static let help: String? = {
        guard FileManager.default.isExecutableFile(atPath: simPath) else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: simPath)
        p.arguments = ["--help"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        do { try p.run() } catch { return nil }
        // Read to EOF with poll and a deadline: nothing here may wait without bound.
        let data = readAll(out.fileHandleForReading.fileDescriptor, seconds: 10)
        kill(p.processIdentifier, SIGKILL)
        let deadline = Date().addingTimeInterval(5)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        return String(decoding: data, as: UTF8.self)
    }()

    /// Everything readable from `fd` until EOF or `seconds` pass.
    static func readAll(_ fd: Int32, seconds: Double) -> [UInt8] {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var request = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&request, 1, 100) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        return data
    }

    /// Models the emulator names in its `--help`.
    static func supports(_ model: String) -> Bool {
        guard let help else { return false }
        return help.uppercased().contains(model.uppercased())
    }

    /// Why `model` cannot be tested, or nil.
    static func skipReason(_ model: String) -> String? {
        if help == nil { return "\(simPath) is not built (swift build --build-tests builds it) or does not run" }
        if !supports(model) { return "tun2modem-sim --help does not list \(model)" }
        return nil
    }
}

/// One running emulator.
final class EmulatedModem {
    let process = Process()
    let ptyPath: String
    let controlPath: String

    /// `baud` nil: unthrottled (the emulator's default), so the tests measure the driver,
    /// not a simulated UART.
    init(model: String, baud: Int? = nil, extra: [String] = []) throws {
        self.controlPath = NSTemporaryDirectory() + "t2m-sim-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        self.process.executableURL = URL(fileURLWithPath: EmulatorBinary.simPath)
        var arguments = ["--model", model, "--seed", "1", "--control", self.controlPath]
        if let baud { arguments += ["--baud", String(baud)] }
        // TUN2MODEM_SIM_TRANSCRIPTS=DIR keeps the emulator's byte log of each run, for debugging.
        if let dir = ProcessInfo.processInfo.environment["TUN2MODEM_SIM_TRANSCRIPTS"] {
            arguments += ["--transcript", "\(dir)/\(model)-\(getpid())-\(UInt16.random(in: 0...UInt16.max)).txt"]
        }
        self.process.arguments = arguments + extra
        let out = Pipe()
        self.process.standardOutput = out
        try self.process.run()
        // The first line is `pty: /dev/pts/N`; give the emulator 10 s to print it (poll, so
        // an emulator that prints nothing cannot block the test).
        let fd = out.fileHandleForReading.fileDescriptor
        var text = ""
        let deadline = Date().addingTimeInterval(10)
        var buffer = [UInt8](repeating: 0, count: 256)
        while !text.contains("\n") && Date() < deadline {
            var request = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&request, 1, 100) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            text += String(decoding: buffer[0..<n], as: UTF8.self)
        }
        guard let line = text.split(separator: "\n").first, line.hasPrefix("pty: ") else {
            self.process.terminate()
            throw POSIXError(.EIO)
        }
        self.ptyPath = String(line.dropFirst(5)).trimmingCharacters(in: .whitespaces)
    }

    /// Sends one control line (`reboot`, `netloss`, `remote-close 0`, `sendfull on`).
    func control(_ line: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let path = Array(self.controlPath.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { buf in
            for (i, b) in path.prefix(buf.count - 1).enumerated() { buf[i] = b }
        }
        var connected: Int32 = -1
        for _ in 0..<50 {
            connected = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if connected == 0 { break }
            usleep(20_000)   // the emulator creates the socket at start; not synchronisation of results
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        // The emulator answers "ok" or "error: ..." once the fault is in place.
        var reply = [UInt8](repeating: 0, count: 256)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let n = reply.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        let text = n > 0 ? String(decoding: reply[0..<n], as: UTF8.self) : ""
        guard text.hasPrefix("ok") else { throw ControlError.refused(line, text) }
    }

    enum ControlError: Error { case refused(String, String) }

    deinit {
        if self.process.isRunning {
            // SIGKILL: the child may inherit a blocked SIGTERM from the test runner.
            kill(self.process.processIdentifier, SIGKILL)
            // Foundation reaps the child; waitUntilExit has been seen to hang with many
            // children exiting at once, so wait a bounded time instead.
            let deadline = Date().addingTimeInterval(5)
            while self.process.isRunning && Date() < deadline { usleep(10_000) }
        }
        unlink(self.controlPath)
    }
}
