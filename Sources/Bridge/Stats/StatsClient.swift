import Buffers
import Sys

/// Why the CLI could not get an answer from the daemon.
public enum StatsClientError: Error, Equatable, CustomStringConvertible {
    /// Nothing listens at the path (no file, or a stale one): the daemon is not running.
    case notRunning(path: String, reason: String)
    /// The socket exists but we may not connect (mode 0660: root and the socket's group).
    case permissionDenied(path: String)
    /// The daemon did not answer in time.
    case timedOut(path: String)
    /// The daemon closed the connection before the reply ended.
    case closed(path: String)
    /// The daemon answered `error: ...`.
    case refused(String)
    /// A reply larger than the client accepts.
    case replyTooLong(Int)
    case other(path: String, reason: String)

    public var description: String {
        switch self {
        case .notRunning(let path, let reason):
            "the daemon is not running: cannot connect to \(path) (\(reason)); start it with 'tun2modem run' "
                + "or 'systemctl start tun2modem', or name its socket with --socket PATH"
        case .permissionDenied(let path):
            "permission denied on \(path): the socket is for root and its group; run as root or join that group"
        case .timedOut(let path): "the daemon at \(path) did not answer in time"
        case .closed(let path): "the daemon at \(path) closed the connection before answering"
        case .refused(let text): "the daemon answered: \(text)"
        case .replyTooLong(let limit): "the daemon's reply is longer than \(limit) bytes"
        case .other(let path, let reason): "\(path): \(reason)"
        }
    }
}

/// A blocking client of the stats socket, for the CLI and the tests: one connection, one
/// request at a time, each with a deadline.
public final class StatsClient {
    public static let maxReply = 64 << 20

    public let path: String
    private let fd: FileDescriptor
    /// Bytes read past the end of the last reply.
    private var pending: [UInt8] = []

    public init(path: String) throws(StatsClientError) {
        self.path = path
        do {
            self.fd = try UnixStream.connect(path: path, nonblocking: true)
        } catch {
            switch error.errno {
            case .some(.noSuchFileOrDirectory), .some(.connectionRefused), .some(.notDirectory):
                throw .notRunning(path: path, reason: error.errno?.description ?? "\(error)")
            case .some(.permissionDenied): throw .permissionDenied(path: path)
            default: throw .other(path: path, reason: "\(error)")
            }
        }
    }

    /// Sends `request` and returns its reply: one line without its newline, or for
    /// `metrics` the whole text including the final `# EOF` line.
    public func send(_ request: StatsRequest, timeout: Duration = .seconds(5)) throws(StatsClientError) -> String {
        let deadline = MonotonicClock.now() + timeout
        try self.write(Array((request.rawValue + "\n").utf8), deadline: deadline)
        let reply: String
        if request == .metrics {
            var text = ""
            while true {
                let line = try self.readLine(deadline: deadline)
                if line.hasPrefix("error: ") && text.isEmpty { throw .refused(String(line.dropFirst(7))) }
                text += line + "\n"
                if line == StatsRequest.metricsTerminator { break }
                if text.utf8.count > Self.maxReply { throw .replyTooLong(Self.maxReply) }
            }
            reply = text
        } else {
            reply = try self.readLine(deadline: deadline)
            if reply.hasPrefix("error: ") { throw .refused(String(reply.dropFirst(7))) }
        }
        return reply
    }

    /// Sends raw bytes (tests use this for malformed requests).
    public func write(_ bytes: [UInt8], deadline: Instant) throws(StatsClientError) {
        var offset = 0
        while offset < bytes.count {
            let result = bytes.withUnsafeBytes { all in
                Result { () throws(SysError) in try self.fd.send(UnsafeRawBufferPointer(rebasing: all[offset...])) }
            }
            switch result {
            case .failure(let error):
                throw error.errno == .brokenPipe || error.errno == .connectionReset ? .closed(path: self.path)
                    : .other(path: self.path, reason: "\(error)")
            case .success(.processed(let n)): offset += n
            case .success(.wouldBlock): try self.waitFor(.writable, deadline: deadline)
            }
        }
    }

    /// The next line the daemon sends, without its newline.
    public func readLine(deadline: Instant) throws(StatsClientError) -> String {
        var searched = 0
        while true {
            if let nl = self.pending[searched...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: self.pending[..<nl], as: UTF8.self)
                self.pending.removeFirst(nl + 1)
                return line
            }
            searched = self.pending.count
            guard self.pending.count <= Self.maxReply else { throw .replyTooLong(Self.maxReply) }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let result = chunk.withUnsafeMutableBytes { buffer in
                Result { () throws(SysError) in try self.fd.read(into: buffer) }
            }
            switch result {
            case .failure(let error):
                throw error.errno == .connectionReset ? .closed(path: self.path) : .other(path: self.path, reason: "\(error)")
            case .success(.processed(0)): throw .closed(path: self.path)
            case .success(.processed(let n)): self.pending += chunk[0..<n]
            case .success(.wouldBlock): try self.waitFor(.readable, deadline: deadline)
            }
        }
    }

    private func waitFor(_ events: PollEvents, deadline: Instant) throws(StatsClientError) {
        let left = deadline - MonotonicClock.now()
        guard left > .zero else { throw .timedOut(path: self.path) }
        var requests = [PollRequest(fd: self.fd.rawValue, events: events)]
        do {
            _ = try Poll.wait(&requests, timeout: left)
        } catch {
            throw .other(path: self.path, reason: "\(error)")
        }
    }
}
