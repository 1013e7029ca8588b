import Buffers
import Foundation
import Glibc
import Sys
import Testing
@testable import ModemSim

/// The built binary's command line: usage errors, --help, --link, --transcript, --netns.
@Suite(.serialized) struct CommandLineProcessTests {
    /// Runs the binary to completion (bounded) and returns (status, stdout, stderr).
    func run(_ arguments: [String]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: EmulatorProcess.binary)
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    @Test func unknownModelIsAUsageError() throws {
        let (status, _, err) = try run(["--model", "Z80"])
        #expect(status == 64)
        #expect(err.contains("EC600E") && err.contains("MN316") && err.contains("usage:"))
    }

    @Test func unknownFlagIsAUsageError() throws {
        let (status, _, err) = try run(["--model", "EC600E", "--turbo"])
        #expect(status == 64)
        #expect(err.contains("--baud"))
    }

    @Test func helpListsModelsAndFaults() throws {
        let (status, out, _) = try run(["--help"])
        #expect(status == 0)
        for word in ["EC800E", "BC20", "SIM7028", "ML307A", "reboot@", "silence@", "--control", "--netns"] { #expect(out.contains(word)) }
    }

    /// A parent killed outright (SIGKILL, no chance to stop its child) takes an emulator
    /// started with --exit-with-parent with it; without the option the emulator stays.
    @Test(arguments: [true, false])
    func exitWithParentFollowsAKilledParent(_ follow: Bool) throws {
        // Not Foundation's Process for the parent: it learns of a child's exit through a
        // descriptor the child inherits, which the emulator would then keep open.
        let command = "\"$0\" --model EC600E \(follow ? "--exit-with-parent" : "") >/dev/null & echo $!; wait"
        var parent = try ChildProcess.spawn("/bin/sh", arguments: ["-c", command, EmulatorProcess.binary])
        guard let output = parent.standardOutput.take() else { throw CancellationError() }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
        defer { buffer.deallocate() }
        guard case .processed(let count) = try output.read(into: buffer) else { throw CancellationError() }
        let line = String(decoding: buffer.prefix(count), as: UTF8.self)
        let child = try #require(Int32(line.trimmingCharacters(in: .whitespacesAndNewlines)), "pid line: \(line)")
        defer { kill(child, SIGKILL) }
        // Running (not yet past its prctl) before the parent is killed.
        let started = MonotonicClock.now()
        while !Self.hasPty(child), MonotonicClock.now() - started < .seconds(10) { usleep(20_000) }
        try parent.send(.kill)
        _ = try parent.wait()
        let killed = MonotonicClock.now()
        while Self.isRunning(child), MonotonicClock.now() - killed < .seconds(3) { usleep(20_000) }
        #expect(Self.isRunning(child) == !follow, "emulator \(child) running: \(Self.isRunning(child))")
    }

    /// Alive and not a zombie awaiting its (new) parent's wait.
    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }

    /// The emulator has opened its pty (so it is past start-up).
    static func hasPty(_ pid: Int32) -> Bool {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
        return fds.contains { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)")) == "/dev/ptmx" }
    }

    @Test func missingNamespaceExits69() throws {
        let (status, _, err) = try run(["--model", "EC600E", "--netns", "t2m-no-such-namespace"])
        #expect(status == 69)
        #expect(err.contains("t2m-no-such-namespace"))
    }

    @Test func linkAndTranscript() throws {
        let dir = NSTemporaryDirectory()
        let link = dir + "t2m-sim-link-\(getpid())"
        let log = dir + "t2m-sim-log-\(getpid()).txt"
        let e = try EmulatorProcess(model: "EC600E", extra: ["--link", link, "--transcript", log, "--urc-rate", "0"])
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == e.ptyPath)
        e.command("ATE0")
        try e.expect("OK\r\n")
        e.command("AT+CGMM")
        try e.expect("EC600E\r\n\r\nOK\r\n")
        #expect(e.stop() == 0)
        // SIGTERM removed the link; the transcript holds both directions, escaped.
        #expect(!FileManager.default.fileExists(atPath: link))
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(text.contains("host> AT+CGMM\\r"))
        #expect(text.contains("modem< \\r\\nEC600E\\r\\n\\r\\nOK\\r\\n"))
        try? FileManager.default.removeItem(atPath: log)
    }

    /// --hosts names resolve for opens and for the DNS command, before the OS resolver.
    @Test func hostsFileNames() throws {
        let file = NSTemporaryDirectory() + "t2m-sim-hosts-\(getpid())"
        try "# test\n127.0.0.1  echo.t2m.test\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let e = try EmulatorProcess(model: "EC600E", extra: ["--hosts", file, "--urc-rate", "0"])
        defer { #expect(e.stop() == 0) }
        try QuectelCat1Client().bringUp(e)
        e.command("AT+QIDNSGIP=1,\"echo.t2m.test\"")
        try e.expect("+QIURC: \"dnsgip\",0,1,600\r\n\r\n+QIURC: \"dnsgip\",\"127.0.0.1\"\r\n")
        let server = LoopbackTCPServer()
        defer { server.close() }
        e.command("AT+QIOPEN=1,0,\"TCP\",\"echo.t2m.test\",\(server.port),0,0")
        try e.expect("+QIOPEN: 0,0\r\n")
        #expect(server.accept() != nil)
    }

    /// A real SNTP exchange with a server on 127.0.0.1 that answers with the EC manual's time.
    /// The EC prints a four-digit year; the BC's body and example use AT+QNTTP and two.
    @Test(arguments: [("EC600E", "+QNTP", "2019/09/09,01:32:42+32"), ("BC26", "+QNTTP", "19/09/09,01:32:42+32")])
    func ntpOverRealUDP(_ model: String, _ command: String, _ time: String) throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let served = DispatchSemaphore(value: 0)
        let server = Thread {
            defer { served.signal() }
            var request = [UInt8](repeating: 0, count: 48)
            var from = sockaddr_storage()
            var fromLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = request.withUnsafeMutableBytes { b in
                withUnsafeMutablePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, b.baseAddress, b.count, 0, $0, &fromLength) } }
            }
            guard n == 48, request[0] & 0x07 == 3 else { return }
            var reply = [UInt8](repeating: 0, count: 48)
            reply[0] = 0x24  // version 4, mode 4 (server)
            let t = UInt32(1_567_963_962 + 2_208_988_800)
            reply[40] = UInt8(t >> 24); reply[41] = UInt8(t >> 16 & 0xFF); reply[42] = UInt8(t >> 8 & 0xFF); reply[43] = UInt8(t & 0xFF)
            _ = reply.withUnsafeBytes { b in
                withUnsafePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, b.baseAddress, b.count, 0, $0, fromLength) } }
            }
        }
        server.start()
        defer { _ = served.wait(timeout: .now() + 12); close(fd) }
        let e = try EmulatorProcess(model: model, extra: ["--urc-rate", "0"])
        defer { #expect(e.stop() == 0) }
        if model == "BC26" { try QuectelNBClient().bringUp(e) } else { try QuectelCat1Client().bringUp(e) }
        e.command("AT\(command)=1,\"127.0.0.1\",\(port)")
        try e.expect("\(command): 0,\"\(time)\"\r\n")
    }

    /// With root: a namespace of our own, a server on its loopback, the emulator inside it.
    @Test(.enabled(if: getuid() == 0 && (FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")
                                         || FileManager.default.isExecutableFile(atPath: "/sbin/ip")),
                   "needs root and iproute2 to make a namespace"))
    func socketsOpenInsideTheNamespace() throws {
        let name = "t2msim\(getpid())"
        let ip = FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") ? "/usr/sbin/ip" : "/sbin/ip"
        func sh(_ args: [String]) -> Int32 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: ip)
            p.arguments = args
            try? p.run()
            p.waitUntilExit()
            return p.terminationStatus
        }
        #expect(sh(["netns", "add", name]) == 0)
        defer { _ = sh(["netns", "del", name]) }
        #expect(sh(["-n", name, "link", "set", "lo", "up"]) == 0)
        // A listener inside the namespace, made by a thread that joined it.
        let ready = DispatchSemaphore(value: 0)
        let box = LockedBytes()
        let thread = Thread {
            guard (try? NetworkNamespace.enter(path: "/run/netns/" + name)) != nil else { ready.signal(); return }
            let server = LoopbackTCPServer()
            box.set(Array(String(server.port).utf8))
            ready.signal()
            if let peer = server.accept() { _ = LoopbackTCPServer.writeAll(peer, Array("inside".utf8)) }
            server.close()
        }
        thread.start()
        _ = ready.wait(timeout: .now() + 5)
        let port = try #require(Int(String(decoding: box.value, as: UTF8.self)))
        let e = try EmulatorProcess(model: "EC600E", extra: ["--netns", name, "--urc-rate", "0"])
        defer { #expect(e.stop() == 0) }
        try QuectelCat1Client().bringUp(e)
        try QuectelCat1Client().openTCP(e, id: 0, port: port)
        try e.expect("+QIURC: \"recv\",0\r\n")
        #expect(try QuectelCat1Client().read(e, id: 0) == Array("inside".utf8))
    }
}
