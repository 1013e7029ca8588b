import Buffers
import Sys

/// One client of the stats socket: its descriptor, its unfinished request line and the
/// replies not yet written.
final class StatsConnection {
    let fd: FileDescriptor
    let token: UInt64
    var reader = StatsRequestReader()
    /// Requests read but not yet answered because the replies reached the limit; answered
    /// as the client drains them. At most one read's worth (`readChunk / 2` requests).
    var deferred: ArraySlice<StatsRequestReader.Item> = []
    /// Reply bytes not yet taken by the socket, from `outputStart`.
    private(set) var output: [UInt8] = []
    private var outputStart = 0
    var errors = 0
    /// The client shut its side (read returned 0): finish writing, then close.
    var inputClosed = false
    /// Too many errors: write what is pending, then close.
    var closeAfterFlush = false
    /// Last time a byte moved either way: what "stalled" is measured from.
    var lastProgress: Instant
    /// What the server's epoll watches for now.
    var interest: EpollEvents

    init(fd: consuming FileDescriptor, token: UInt64, now: Instant) {
        self.fd = fd
        self.token = token
        self.lastProgress = now
        self.interest = .readable
    }

    var pendingOutputCount: Int { self.output.count - self.outputStart }

    func append(_ text: String) {
        if self.outputStart > 0 && self.outputStart >= self.output.count / 2 {
            self.output.removeFirst(self.outputStart)
            self.outputStart = 0
        }
        self.output.append(contentsOf: text.utf8)
    }

    /// Sends what the socket takes now. Returns false when the client is gone (EPIPE,
    /// ECONNRESET, any other error): the caller closes it.
    func flush(now: Instant) -> Bool {
        while self.pendingOutputCount > 0 {
            let start = self.outputStart
            let result = self.output.withUnsafeBytes { all in
                Result { () throws(SysError) in try self.fd.send(UnsafeRawBufferPointer(rebasing: all[start...])) }
            }
            switch result {
            case .failure: return false
            case .success(.wouldBlock): return true
            case .success(.processed(let n)):
                guard n > 0 else { return false }
                self.outputStart += n
                self.lastProgress = now
            }
        }
        self.output.removeAll(keepingCapacity: self.output.capacity <= 65536)
        self.outputStart = 0
        return true
    }
}
