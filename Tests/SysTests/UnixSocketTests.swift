import Glibc
import Testing
@testable import Sys

@Suite struct UnixSocketTests {
    @Test func roundTripThroughANewDirectory() throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/run/tun2modem/control.sock"
        let listener = try UnixListener(path: path)
        #expect(try listener.descriptor.isCloseOnExec())
        #expect(isNone(try listener.accept()))   // nothing waiting: not an error

        let client = try UnixStream.connect(path: path)
        var requests = [PollRequest(fd: listener.descriptor.rawValue, events: .readable)]
        #expect(try Poll.wait(&requests, timeout: .seconds(5)) == 1)
        guard let server = try listener.accept() else {
            Issue.record("readable listener had no connection to accept")
            return
        }
        #expect(try server.isNonblocking())
        #expect(try server.isCloseOnExec())

        try writeAll(Array("stats\n".utf8), to: client)
        #expect(try readExactly(6, from: server) == Array("stats\n".utf8))
        try writeAll([0x00, 0xFF, 0x0A], to: server)
        #expect(try readExactly(3, from: client) == [0x00, 0xFF, 0x0A])
    }

    @Test(.enabled(if: childTestName == nil, "runs in the parent only"))
    func sendToAClientThatLeftIsAnErrorNotADeath() throws {
        // The child starts with SIGPIPE at its default action (spawn resets it), as a daemon
        // that forgot to ignore it would have.
        let (status, output) = try runTestInChildProcess(suite: "UnixSocketTests", test: "sendAfterPeerClosed()")
        #expect(status == .exited(0), "\(output)")
        #expect(output.contains("Test sendAfterPeerClosed() passed"), "\(output)")
    }

    @Test(.enabled(if: childTestName == "sendAfterPeerClosed()", "runs only as the child of sendToAClientThatLeftIsAnErrorNotADeath"))
    func sendAfterPeerClosed() throws {
        let name = "@t2m-sys-sigpipe-\(getpid())"
        let listener = try UnixListener(path: name)
        do { _ = try UnixStream.connect(path: name) }   // connects, then hangs up at once
        var requests = [PollRequest(fd: listener.descriptor.rawValue, events: .readable)]
        #expect(try Poll.wait(&requests, timeout: .seconds(5)) == 1)
        guard let server = try listener.accept() else {
            Issue.record("no connection")
            return
        }
        let reply = Array("rx 1024 tx 2048\n".utf8)
        var failure: SysError? = nil
        for _ in 0..<2 {   // the first send may still be accepted by the kernel
            do { _ = try reply.withUnsafeBytes { try server.send($0) } } catch let error as SysError { failure = error }
        }
        #expect(failure?.errno == .brokenPipe || failure?.errno == .connectionReset)
    }

    @Test func socketFileIsGroupAccessibleOnly() throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/control.sock"
        let listener = try UnixListener(path: path)
        var status = stat()
        #expect(lstat(listener.path, &status) == 0)
        #expect(status.st_mode & S_IFMT == S_IFSOCK)
        #expect(status.st_mode & 0o777 == 0o660)
    }

    @Test func staleSocketIsReplacedButALiveOneIsNot() throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/control.sock"
        // A socket file whose listener died without unlinking: connections are refused.
        let orphan = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        let address = try UnixAddress(path)
        #expect(address.withSockaddr { bind(orphan, $0, $1) } == 0)
        close(orphan)
        #expect(throws: SysError.failed(call: "connect", subject: path, errno: .connectionRefused)) {
            _ = try UnixStream.connect(path: path)
        }

        let live = try UnixListener(path: path)
        #expect(throws: SysError.failed(call: "bind", subject: path, errno: .addressInUse)) {
            _ = try UnixListener(path: path)
        }
        // The refused second listener must not have removed the live one's file.
        _ = try UnixStream.connect(path: live.path)
    }

    @Test func listenerRemovesItsSocketFileWhenItGoesAway() throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/control.sock"
        do { _ = try UnixListener(path: path) }
        #expect(access(path, F_OK) == -1)
    }

    @Test func refusesToReplaceARegularFile() throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/control.sock"
        try FileDescriptor.open(path, O_WRONLY | O_CREAT, permissions: 0o600).close()
        #expect(throws: SysError.refusedToReplace(path: path)) { _ = try UnixListener(path: path) }
    }

    @Test func connectingWhereNobodyListensSaysSo() {
        #expect(throws: SysError.failed(call: "connect", subject: "/tmp/t2m-nonexistent/control.sock", errno: .noSuchFileOrDirectory)) {
            _ = try UnixStream.connect(path: "/tmp/t2m-nonexistent/control.sock")
        }
    }

    @Test func abstractNameNeedsNoFile() throws {
        let name = "@t2m-sys-control-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let listener = try UnixListener(path: name)
        let client = try UnixStream.connect(path: name)
        var requests = [PollRequest(fd: listener.descriptor.rawValue, events: .readable)]
        #expect(try Poll.wait(&requests, timeout: .seconds(5)) == 1)
        guard let server = try listener.accept() else {
            Issue.record("no connection on the abstract listener")
            return
        }
        try writeAll([42], to: client)
        #expect(try readExactly(1, from: server) == [42])
        #expect(access(String(name.dropFirst()), F_OK) == -1)
    }

    @Test func pathsLongerThanSunPathAreRefused() {
        let long = "/tmp/" + String(repeating: "x", count: 120)
        #expect(throws: SysError.nameTooLong(long, limit: 107)) { _ = try UnixListener(path: long) }
    }
}

private func isNone(_ descriptor: consuming FileDescriptor?) -> Bool {
    switch consume descriptor {
    case .none: return true
    case .some: return false
    }
}
