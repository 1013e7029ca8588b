import Glibc
import Testing
@testable import Sys

@Suite struct SystemdNotifyTests {
    @Test func readyReachesAFilesystemSocket() throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/notify"
        let receiver = try datagramSocket(boundTo: path)
        try SystemdNotify.send("READY=1", to: path)
        #expect(try receive(receiver) == "READY=1")
    }

    @Test func abstractNamespaceAddressStartsWithAt() throws {
        let name = "@t2m-sys-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let receiver = try datagramSocket(boundTo: name)
        try SystemdNotify.send("STATUS=modem ready\nWATCHDOG=1", to: name)
        #expect(try receive(receiver) == "STATUS=modem ready\nWATCHDOG=1")
    }

    @Test func missingListenerIsAnError() {
        #expect(throws: SysError.failed(call: "sendto", subject: "/tmp/t2m-nonexistent/notify", errno: .noSuchFileOrDirectory)) {
            try SystemdNotify.send("READY=1", to: "/tmp/t2m-nonexistent/notify")
        }
    }

    @Test(arguments: [
        ("30000000", nil as String?, Duration?.some(.seconds(30))),
        ("30000000", "4242", Duration?.some(.seconds(30))),
        ("30000000", "1", nil),
        ("0", nil, nil),
        ("-5", nil, nil),
        ("soon", nil, nil),
        (nil, "4242", nil),
    ] as [(String?, String?, Duration?)])
    func watchdogIntervalFromEnvironment(microseconds: String?, pid: String?, expected: Duration?) {
        #expect(SystemdNotify.watchdogInterval(microseconds: microseconds, pid: pid, currentPID: 4242) == expected)
    }

    private func datagramSocket(boundTo name: String) throws -> FileDescriptor {
        let fd = FileDescriptor(adopting: socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0))
        let address = try UnixAddress(name)
        #expect(address.withSockaddr { bind(fd.rawValue, $0, $1) } == 0)
        return fd
    }

    private func receive(_ fd: borrowing FileDescriptor) throws -> String {
        let bytes = try readExactly(1, from: fd, timeout: .seconds(5))
        return String(decoding: bytes, as: UTF8.self)
    }
}
