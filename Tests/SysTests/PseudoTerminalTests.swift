import Glibc
import Testing
import Sys

@Suite struct PseudoTerminalTests {
    /// Every byte value crosses unchanged in both directions: raw mode turned off echo,
    /// CR/LF mapping, XON/XOFF and signal characters.
    @Test func everyByteValueCrossesBothWays() throws {
        let pty = try PseudoTerminal.open()
        #expect(pty.slavePath.hasPrefix("/dev/pts/"))
        let slave = try pty.openSlave()
        let allBytes = (0...255).map(UInt8.init) + (0...255).reversed().map(UInt8.init)

        try writeAll(allBytes, to: pty.master)
        #expect(try readExactly(allBytes.count, from: slave) == allBytes)

        try writeAll(allBytes, to: slave)
        #expect(try readExactly(allBytes.count, from: pty.master) == allBytes)
    }

    @Test func masterIsCloseOnExecAndNonblocking() throws {
        let pty = try PseudoTerminal.open()
        #expect(try pty.master.isCloseOnExec())
        #expect(try pty.master.isNonblocking())
        let slave = try pty.openSlave()
        #expect(try slave.isCloseOnExec())
    }

    @Test func masterWouldBlockBeforeTheSlaveOpensAndReadsIOErrorAfterItCloses() throws {
        let pty = try PseudoTerminal.open()
        var buffer = [UInt8](repeating: 0, count: 8)
        #expect(try buffer.withUnsafeMutableBytes { try pty.master.read(into: $0) } == .wouldBlock)
        try pty.openSlave().close()
        #expect(throws: SysError.failed(call: "read", subject: "fd \(pty.master.rawValue)", errno: .ioError)) {
            _ = try buffer.withUnsafeMutableBytes { try pty.master.read(into: $0) }
        }
    }

    /// What the event loop sees when the other side goes away: the emulator's master gets
    /// a hangup when the daemon closes the slave, and the daemon's serial port gets a hangup
    /// and then end-of-file or EIO when the emulator closes the master.
    @Test func eachSideSeesTheOtherHangUp() throws {
        var events = EpollEventBuffer(capacity: 2)
        do {
            let pty = try PseudoTerminal.open()
            let epoll = try Epoll()
            try epoll.add(pty.master.rawValue, events: .readable, token: 1)
            try SerialPort.open(path: pty.slavePath, baud: 115200, rtscts: false).close()
            #expect(try epoll.wait(into: &events, timeout: .seconds(5)) == 1)
            #expect(events[0].events.contains(.hangup))
        }
        do {
            var pty = try PseudoTerminal.open()
            let port = try SerialPort.open(path: pty.slavePath, baud: 115200, rtscts: false)
            let epoll = try Epoll()
            try epoll.add(port.rawValue, events: .readable, token: 2)
            #expect(try epoll.wait(into: &events, timeout: .zero) == 0)
            pty.master = try FileDescriptor.open("/dev/null", .readOnly)   // the old master closes
            #expect(try epoll.wait(into: &events, timeout: .seconds(5)) == 1)
            #expect(events[0].events.contains(.hangup))
            var buffer = [UInt8](repeating: 0, count: 8)
            do {
                let result = try buffer.withUnsafeMutableBytes { try port.read(into: $0) }
                #expect(result == .processed(0))
            } catch let error as SysError {
                #expect(error.errno == .ioError)
            }
        }
    }

    @Test func linkCreatesThenReplacesASymlink() throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let first = try PseudoTerminal.open()
        let second = try PseudoTerminal.open()
        let link = directory + "/modem"

        try PseudoTerminal.link(link, to: first.slavePath)
        #expect(readLink(link) == first.slavePath)
        try PseudoTerminal.link(link, to: second.slavePath)
        #expect(readLink(link) == second.slavePath)
        // The link leads to a working terminal.
        let viaLink = try SerialPort.open(path: link, baud: 9600, rtscts: false)
        try writeAll([0x41, 0x54, 0x0D], to: viaLink)
        #expect(try readExactly(3, from: second.master) == [0x41, 0x54, 0x0D])
    }

    @Test func linkRefusesToReplaceARegularFile() throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/notes.txt"
        let file = try FileDescriptor.open(path, O_WRONLY | O_CREAT, permissions: 0o600)
        try file.close()
        #expect(throws: SysError.refusedToReplace(path: path)) {
            try PseudoTerminal.link(path, to: "/dev/pts/0")
        }
    }

    private func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
