import Glibc
import Testing
import Sys

/// The open descriptors of this process, by number (from /proc/self/fd).
private func openDescriptors() -> Set<Int32> {
    guard let directory = opendir("/proc/self/fd") else { return [] }
    defer { closedir(directory) }
    var numbers: Set<Int32> = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if let number = Int32(name) { numbers.insert(number) }
    }
    numbers.remove(dirfd(directory))
    return numbers
}

/// Every `Sys` call, on success and on failure, gives back every descriptor it opened.
/// Counting needs a process where no other test opens files meanwhile: the check runs in a
/// re-executed copy of the test binary with only `workoutLeavesNoDescriptorOpen` selected.
@Suite struct DescriptorLeakTests {
    @Test(.enabled(if: childTestName == nil, "runs in the parent only"))
    func noDescriptorLeaks() throws {
        let (status, output) = try runTestInChildProcess(suite: "DescriptorLeakTests", test: "workoutLeavesNoDescriptorOpen()")
        #expect(status == .exited(0), "\(output)")
        #expect(output.contains("Test workoutLeavesNoDescriptorOpen() passed"), "\(output)")
    }

    @Test(.enabled(if: childTestName == "workoutLeavesNoDescriptorOpen()", "runs only as the child of noDescriptorLeaks"))
    func workoutLeavesNoDescriptorOpen() throws {
        try Signal.brokenPipe.ignore()
        let before = openDescriptors()
        for _ in 0..<3 {
            try workout()
        }
        let after = openDescriptors()
        #expect(after == before, "left open: \(after.subtracting(before).sorted())")
    }

    private func workout() throws {
        do {
            let pty = try PseudoTerminal.open()
            let port = try SerialPort.open(path: pty.slavePath, baud: 115200, rtscts: false)
            #expect(throws: SysError.deviceBusy(path: pty.slavePath)) {
                _ = try SerialPort.open(path: pty.slavePath, baud: 115200, rtscts: false)
            }
            try writeAll([1, 2, 3], to: port)
            _ = try readExactly(3, from: pty.master)
        }
        #expect(throws: (any Error).self) { _ = try SerialPort.open(path: "/dev/null", baud: 9600, rtscts: false) }
        #expect(throws: (any Error).self) { _ = try SerialPort.open(path: "/dev/ttyUSB-t2m-missing", baud: 9600, rtscts: false) }
        do {
            let pipe = try Pipe(nonblocking: true)
            let epoll = try Epoll()
            let timer = try TimerFD()
            let wakeup = try EventFD()
            try epoll.add(pipe.readEnd.rawValue, events: .readable, token: 1)
            try epoll.add(timer.descriptor.rawValue, events: .readable, token: 2)
            try epoll.add(wakeup.descriptor.rawValue, events: .readable, token: 3)
            try timer.schedule(after: .milliseconds(1))
            var events = EpollEventBuffer(capacity: 4)
            _ = try epoll.wait(into: &events, timeout: .seconds(1))
        }
        do {
            var mask = sigset_t()
            pthread_sigmask(SIG_SETMASK, nil, &mask)
            defer { pthread_sigmask(SIG_SETMASK, &mask, nil) }
            _ = try SignalFD([.user2])
        }
        do {
            let child = try ChildProcess.spawn("/bin/echo", arguments: ["hi"])
            let exit = try child.exitDescriptor()
            _ = exit.rawValue
            _ = try readToEnd(child.standardOutput!)
            _ = try child.wait()
        }
        #expect(throws: (any Error).self) { _ = try ChildProcess.spawn("/nonexistent/t2m") }
        do {
            let directory = makeTemporaryDirectory()
            defer { removeTree(directory) }
            let listener = try UnixListener(path: directory + "/s/control.sock")
            let client = try UnixStream.connect(path: listener.path)
            var requests = [PollRequest(fd: listener.descriptor.rawValue, events: .readable)]
            _ = try Poll.wait(&requests, timeout: .seconds(1))
            let server = try listener.accept()
            _ = server
            _ = client.rawValue
            #expect(throws: (any Error).self) { _ = try UnixListener(path: listener.path) }
            #expect(throws: (any Error).self) { try SystemdNotify.send("READY=1", to: directory + "/missing") }
        }
        if networkLabAvailable {
            try inFreshNetworkNamespace {
                let tun = try TunDevice.open(name: "t2mleak")
                var netlink = try Netlink()
                let index = try netlink.linkIndex(named: tun.name)
                try netlink.addAddress(try IPPrefix(parsing: "10.90.0.1/24"), link: index)
                #expect(throws: (any Error).self) { try netlink.addAddress(try IPPrefix(parsing: "10.90.0.1/24"), link: index) }
                _ = try netlink.routes(ipv6: false)
            }
        }
    }
}
