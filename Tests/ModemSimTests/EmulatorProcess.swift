import Foundation
import Glibc

/// A running `tun2modem-sim` (the binary next to the test bundle) and the host side of its pty.
final class EmulatorProcess {
    let process = Process()
    let ptyPath: String
    let fd: Int32
    let controlPath: String
    private var buffer: [UInt8] = []

    enum Failure: Error, CustomStringConvertible {
        case noBinary(String), noPtyLine(String), timeout(String, seen: String), open(String)
        var description: String {
            switch self {
            case .noBinary(let p): return "no emulator binary at \(p) (run swift build --build-tests)"
            case .noPtyLine(let l): return "first stdout line was \(l.debugDescription)"
            case .timeout(let what, let seen): return "timed out waiting for \(what); last bytes: \(seen)"
            case .open(let p): return "cannot open \(p)"
            }
        }
    }

    static var binary: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // swift-testing on Linux runs <pkg>PackageTests.xctest from .build/<triple>/debug.
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent("tun2modem-sim").path
    }

    init(model: String, extra: [String] = []) throws {
        let binary = Self.binary
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw Failure.noBinary(binary) }
        controlPath = NSTemporaryDirectory() + "t2m-sim-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).ctl"
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--model", model, "--control", controlPath] + extra
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        // The first line, read byte by byte so nothing after it is lost.
        var line: [UInt8] = []
        let handle = out.fileHandleForReading
        while line.last != 0x0A && line.count < 200 {
            let b = handle.readData(ofLength: 1)
            if b.isEmpty { break }
            line += b
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("pty: /dev/pts/"), text.hasSuffix("\n") else {
            process.terminate()
            throw Failure.noPtyLine(text)
        }
        ptyPath = String(text.dropFirst(5).dropLast())
        fd = open(ptyPath, O_RDWR | O_NOCTTY | O_NONBLOCK)
        guard fd >= 0 else { process.terminate(); throw Failure.open(ptyPath) }
    }

    /// SIGTERM, then the exit status (SIGKILL and -1 if it has not exited within 5 s).
    func stop() -> Int32 {
        close(fd)
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { _ = poll(nil, 0, 20) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return -1
        }
        return process.terminationStatus
    }

    // MARK: the AT side

    func write(_ bytes: [UInt8]) {
        var offset = 0
        let deadline = Date().addingTimeInterval(10)
        while offset < bytes.count && Date() < deadline {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n > 0 { offset += n; continue }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&p, 1, 100)
        }
    }

    func command(_ line: String) { write(Array((line + "\r").utf8)) }

    /// Reads what is available within `ms` milliseconds into the buffer.
    private func fill(ms: Int32) {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, ms) == 1 else { return }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if n > 0 { buffer += chunk[0..<n] }
    }

    /// Consumes through the first occurrence of `token`; returns what came before it.
    @discardableResult
    func expect(_ token: String, seconds: Double = 10) throws -> String {
        let t = Array(token.utf8)
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if let r = range(of: t) {
                let before = Array(buffer[0..<r.lowerBound])
                buffer.removeFirst(r.upperBound)
                return String(decoding: before, as: UTF8.self)
            }
            guard Date() < deadline else { throw Failure.timeout(token, seen: Self.show(buffer.suffix(200))) }
            fill(ms: 50)
        }
    }

    /// Waits for whichever of `tokens` comes first; consumes through it and returns its index.
    func expectAny(_ tokens: [String], seconds: Double = 10) throws -> (index: Int, before: String) {
        let ts = tokens.map { Array($0.utf8) }
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            var best: (Int, Range<Int>)? = nil
            for (i, t) in ts.enumerated() {
                if let r = range(of: t), best == nil || r.lowerBound < best!.1.lowerBound { best = (i, r) }
            }
            if let (i, r) = best {
                let before = Array(buffer[0..<r.lowerBound])
                buffer.removeFirst(r.upperBound)
                return (i, String(decoding: before, as: UTF8.self))
            }
            guard Date() < deadline else { throw Failure.timeout(tokens.joined(separator: " | "), seen: Self.show(buffer.suffix(200))) }
            fill(ms: 50)
        }
    }

    /// Exactly `count` raw bytes.
    func take(_ count: Int, seconds: Double = 10) throws -> [UInt8] {
        let deadline = Date().addingTimeInterval(seconds)
        while buffer.count < count {
            guard Date() < deadline else { throw Failure.timeout("\(count) bytes", seen: "\(buffer.count) bytes") }
            fill(ms: 50)
        }
        let out = Array(buffer[0..<count])
        buffer.removeFirst(count)
        return out
    }

    /// Reads for `ms` and returns and clears everything seen.
    func drain(ms: Int32 = 100) -> String {
        fill(ms: ms)
        defer { buffer.removeAll() }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// True if `token` is already buffered or arrives within `ms` (not consumed).
    func sees(_ token: String, ms: Int32) -> Bool {
        if range(of: Array(token.utf8)) != nil { return true }
        fill(ms: ms)
        return range(of: Array(token.utf8)) != nil
    }

    private func range(of t: [UInt8]) -> Range<Int>? {
        guard !t.isEmpty, buffer.count >= t.count else { return nil }
        var i = 0
        while i + t.count <= buffer.count {
            if buffer[i] == t[0] && buffer[i..<(i + t.count)].elementsEqual(t) { return i..<(i + t.count) }
            i += 1
        }
        return nil
    }

    static func show(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { b in (0x20...0x7E).contains(b) ? String(UnicodeScalar(b)) : String(format: "\\x%02X", b) }.joined()
    }

    /// One line to the control socket; returns its answer.
    func control(_ line: String) -> String {
        let s = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { dst in for (i, b) in controlPath.utf8.enumerated() { dst[i] = b } }
        let rc = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        guard rc == 0 else { return "connect failed" }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = Array((line + "\n").utf8).withUnsafeBytes { send(s, $0.baseAddress, $0.count, 0) }
        var answer = [UInt8](repeating: 0, count: 256)
        let n = answer.withUnsafeMutableBytes { recv(s, $0.baseAddress, $0.count, 0) }
        return n > 0 ? String(decoding: answer[0..<n], as: UTF8.self) : ""
    }
}
