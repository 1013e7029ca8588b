import Glibc
import Testing
import Sys

@Suite struct ChildProcessTests {
    @Test func echoOutputIsReadFromThePipe() throws {
        let child = try ChildProcess.spawn("/bin/echo", arguments: ["pty:", "/dev/pts/7"])
        let output = try readToEnd(child.standardOutput!)
        #expect(String(decoding: output, as: UTF8.self) == "pty: /dev/pts/7\n")
        #expect(try child.wait() == .exited(0))
    }

    @Test func standardErrorCanJoinTheOutputPipe() throws {
        let child = try ChildProcess.spawn("/bin/sh", arguments: ["-c", "echo out; echo err >&2"], mergeStandardError: true)
        let output = String(decoding: try readToEnd(child.standardOutput!), as: UTF8.self)
        #expect(output == "out\nerr\n")
        #expect(try child.wait() == .exited(0))
    }

    @Test func environmentIsExactlyWhatWasGiven() throws {
        let child = try ChildProcess.spawn("/usr/bin/env", environment: ["T2M_A=1", "T2M_B=two words"])
        let output = String(decoding: try readToEnd(child.standardOutput!), as: UTF8.self)
        #expect(output == "T2M_A=1\nT2M_B=two words\n")
        #expect(try child.wait() == .exited(0))
    }

    @Test func nonblockingOutputLeavesTheChildsStdoutBlocking() throws {
        let child = try ChildProcess.spawn(
            "/bin/sh", arguments: ["-c", "exec grep flags /proc/self/fdinfo/1"],
            nonblockingOutput: true)
        #expect(try child.standardOutput!.isNonblocking())
        let line = String(decoding: try readToEnd(child.standardOutput!), as: UTF8.self)
        #expect(try child.wait() == .exited(0))
        // flags are octal; O_NONBLOCK is 04000.
        let flags = line.split(whereSeparator: { $0 == "\t" || $0 == "\n" || $0 == " " }).last.flatMap { Int($0, radix: 8) }
        #expect(flags.map { $0 & 0o4000 == 0 } == true, "\(line)")
    }

    @Test func exitCodeIsReported() throws {
        let child = try ChildProcess.spawn("/bin/sh", arguments: ["-c", "exit 7"], captureStandardOutput: false)
        #expect(try child.wait() == .exited(7))
    }

    @Test func signalledChildIsReportedAsSuch() throws {
        let child = try ChildProcess.spawn("/bin/sleep", arguments: ["30"], captureStandardOutput: false)
        #expect(try child.tryWait() == nil)
        try child.send(.terminate)
        #expect(try child.wait() == .signalled(.terminate))
        #expect(throws: SysError.failed(call: "waitpid", subject: "pid \(child.pid)", errno: .noChildProcess)) {
            _ = try child.tryWait()
        }
    }

    @Test func exitDescriptorTurnsReadableWhenTheChildEnds() throws {
        let child = try ChildProcess.spawn("/bin/sleep", arguments: ["30"], captureStandardOutput: false)
        let exit = try child.exitDescriptor()
        #expect(try exit.isCloseOnExec())
        let epoll = try Epoll()
        try epoll.add(exit.rawValue, events: .readable, token: 99)
        var events = EpollEventBuffer(capacity: 1)
        #expect(try epoll.wait(into: &events, timeout: .zero) == 0)
        try child.send(.terminate)
        #expect(try epoll.wait(into: &events, timeout: .seconds(5)) == 1)
        #expect(events[0].token == 99)
        #expect(try child.tryWait() == .signalled(.terminate))
    }

    @Test func missingExecutableIsAClearError() {
        #expect(throws: SysError.failed(call: "posix_spawn", subject: "/nonexistent/tun2modem-sim", errno: .noSuchFileOrDirectory)) {
            _ = try ChildProcess.spawn("/nonexistent/tun2modem-sim")
        }
    }

    /// No descriptor made by `Sys` crosses into a child: all carry `O_CLOEXEC`.
    @Test func childInheritsNoneOfOurDescriptors() throws {
        let pty = try PseudoTerminal.open()
        let port = try SerialPort.open(path: pty.slavePath, baud: 115200, rtscts: false)
        let pipe = try Pipe()
        let ours: Set<Int32> = [pty.master.rawValue, port.rawValue, pipe.readEnd.rawValue, pipe.writeEnd.rawValue]
        let child = try ChildProcess.spawn("/bin/sh", arguments: ["-c", "ls /proc/$$/fd"])
        let listing = String(decoding: try readToEnd(child.standardOutput!), as: UTF8.self)
        #expect(try child.wait() == .exited(0))
        let inherited = Set(listing.split(separator: "\n").compactMap { Int32($0) })
        #expect(inherited.contains(1))
        #expect(inherited.isDisjoint(with: ours), "inherited \(inherited), ours \(ours)")
    }

    /// (grep reads its own status: a shell waiting for a child blocks everything itself.)
    /// A blocked signal mask in the parent (as the daemon has for its signalfd) must not
    /// reach the child, or `SIGTERM` could never stop it.
    @Test func childStartsWithAnEmptySignalMask() throws {
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        let child = try ChildProcess.spawn("/bin/sh", arguments: ["-c", "exec grep SigBlk /proc/self/status"])
        let line = String(decoding: try readToEnd(child.standardOutput!), as: UTF8.self)
        #expect(try child.wait() == .exited(0))
        #expect(line == "SigBlk:\t0000000000000000\n")
    }
}
