import Glibc
import Testing
import Sys

@Suite struct FileDescriptorTests {
    @Test func pipeCarriesBytesAndEndsAtEOF() throws {
        let pipe = try Pipe()
        let bytes: [UInt8] = [0x00, 0x0D, 0x0A, 0xFF, 0x7E]
        try writeAll(bytes, to: pipe.writeEnd)
        let readEnd = pipe.readEnd
        try pipe.writeEnd.close()
        #expect(try readToEnd(readEnd) == bytes)
    }

    @Test func emptyNonblockingReadIsWouldBlockNotAnError() throws {
        let pipe = try Pipe(nonblocking: true)
        #expect(try pipe.readEnd.isNonblocking())
        var buffer = [UInt8](repeating: 0, count: 16)
        let result = try buffer.withUnsafeMutableBytes { try pipe.readEnd.read(into: $0) }
        #expect(result == .wouldBlock)
    }

    @Test func nonblockingToggles() throws {
        let pipe = try Pipe()
        #expect(try pipe.readEnd.isNonblocking() == false)
        try pipe.readEnd.setNonblocking(true)
        #expect(try pipe.readEnd.isNonblocking())
        try pipe.readEnd.setNonblocking(false)
        #expect(try pipe.readEnd.isNonblocking() == false)
    }

    @Test func everyDescriptorIsCloseOnExec() throws {
        let pipe = try Pipe()
        #expect(try pipe.readEnd.isCloseOnExec())
        #expect(try pipe.writeEnd.isCloseOnExec())
        let null = try FileDescriptor.open("/dev/null", O_RDONLY)
        #expect(try null.isCloseOnExec())
    }

    @Test func arrayWritesTakeSlices() throws {
        let pipe = try Pipe()
        let command = Array("AT+QIRD=0,1500\r".utf8)
        #expect(try pipe.writeEnd.write(command[3...]) == .processed(command.count - 3))
        #expect(try pipe.writeEnd.write([0x1A]) == .processed(1))
        #expect(try readExactly(command.count - 2, from: pipe.readEnd) == Array(command[3...]) + [0x1A])
    }

    @Test func writevSendsPiecesInOrder() throws {
        let pipe = try Pipe()
        let header: [UInt8] = [1, 2, 3]
        let payload: [UInt8] = Array(10..<20)
        let empty: [UInt8] = []
        let written = try header.withUnsafeBytes { h in
            try payload.withUnsafeBytes { p in
                try empty.withUnsafeBytes { e in try pipe.writeEnd.writev([h, e, p]) }
            }
        }
        #expect(written == .processed(13))
        #expect(try readExactly(13, from: pipe.readEnd) == header + payload)
    }

    @Test func readvFillsBuffersInOrder() throws {
        let pipe = try Pipe()
        try writeAll(Array(0..<10), to: pipe.writeEnd)
        var first = [UInt8](repeating: 0xEE, count: 4)
        var second = [UInt8](repeating: 0xEE, count: 8)
        let count = try first.withUnsafeMutableBytes { a in
            try second.withUnsafeMutableBytes { b in try pipe.readEnd.readv(into: [a, b]) }
        }
        #expect(count == .processed(10))
        #expect(first == [0, 1, 2, 3])
        #expect(second == [4, 5, 6, 7, 8, 9, 0xEE, 0xEE])
    }

    @Test func typedFlagsCreateAppendAndRead() throws {
        let directory = makeTemporaryDirectory()
        defer { removeTree(directory) }
        let path = directory + "/log"
        let writer = try FileDescriptor.open(path, [.writeOnly, .create, .exclusive, .append], permissions: 0o640)
        try writeAll(Array("one\n".utf8), to: writer)
        try writeAll(Array("two\n".utf8), to: writer)
        #expect(throws: SysError.failed(call: "open", subject: path, errno: .fileExists)) {
            _ = try FileDescriptor.open(path, [.writeOnly, .create, .exclusive])
        }
        let reader = try FileDescriptor.open(path, .readOnly)
        #expect(try readToEnd(reader) == Array("one\ntwo\n".utf8))
        var status = stat()
        #expect(stat(path, &status) == 0)
        // The umask may only take bits away from 0640.
        #expect(status.st_mode & 0o777 & ~0o640 == 0)
        #expect(status.st_mode & 0o600 == 0o600)
    }

    @Test func openMissingFileNamesThePath() {
        #expect(throws: SysError.failed(call: "open", subject: "/nonexistent/t2m", errno: .noSuchFileOrDirectory)) {
            _ = try FileDescriptor.open("/nonexistent/t2m", O_RDONLY)
        }
    }

    @Test func relinquishLeavesTheDescriptorOpen() throws {
        let null = try FileDescriptor.open("/dev/null", O_RDONLY)
        let number = null.relinquish()
        #expect(fcntl(number, F_GETFD) != -1)
        let readopted = FileDescriptor(adopting: number)
        try readopted.close()
        #expect(fcntl(number, F_GETFD) == -1)
    }
}
