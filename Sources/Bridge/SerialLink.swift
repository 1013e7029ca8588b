import AT
import Buffers
import Sys

/// The open serial port (or the emulator's pty): nonblocking reads handed to the bridge,
/// the driver's writes written in order, a partial write resumed when the fd is writable
/// again, so the event loop never blocks on a slow line. The daemon and `ModemRunner`
/// (probe, tests) both use it.
final class SerialLink {
    let port: FileDescriptor
    let path: String
    /// The write in progress and how far the fd has taken it.
    private var writing: ATWrite?
    private var piece = 0
    private var offset = 0
    private var readBuffer = [UInt8](repeating: 0, count: 16 * 1024)
    /// The pieces of the write in progress, pinned for one writev (emptied after each).
    private var pointers: [UnsafeRawBufferPointer] = []
    private(set) var bytesRead = 0
    private(set) var bytesWritten = 0

    init(port: consuming FileDescriptor, path: String) {
        self.port = port
        self.path = path
    }

    var rawDescriptor: CInt { self.port.rawValue }

    /// A write is waiting for the fd to become writable.
    var isBlocked: Bool { self.writing != nil }

    /// Writes the bridge's output until it has none or the fd takes no more.
    func flush(_ next: () -> ATWrite?) throws(SysError) {
        while true {
            if self.writing == nil {
                guard let w = next() else { return }
                self.writing = w
                self.piece = 0
                self.offset = 0
            }
            guard let w = self.writing else { return }
            if self.piece >= w.parts.count {
                self.writing = nil
                continue
            }
            // All remaining pieces in one writev: a command line and its payload leave together.
            let result = try self.writeRemaining(w)
            switch result {
            case .wouldBlock:
                return
            case .processed(let n):
                self.bytesWritten += n
                self.advance(by: n, in: w)
            }
        }
    }

    private func writeRemaining(_ w: ATWrite) throws(SysError) -> IOResult<Int> {
        defer { self.pointers.removeAll(keepingCapacity: true) }
        return try self.pinned(w.parts, from: self.piece)
    }

    /// Pins parts `index...` (the first from `offset`) into `pointers` and writes them all
    /// with one writev; recursion keeps every `withUnsafeBytes` scope open at once. The
    /// pointer list is reused, so a write allocates nothing.
    private func pinned(_ parts: [ArraySlice<UInt8>], from index: Int) throws(SysError) -> IOResult<Int> {
        guard index < parts.count else { return try self.port.writev(self.pointers) }
        let part = index == self.piece ? parts[index].dropFirst(self.offset) : parts[index]
        let result = part.withUnsafeBytes { raw in
            Result { () throws(SysError) -> IOResult<Int> in
                self.pointers.append(raw)
                return try self.pinned(parts, from: index + 1)
            }
        }
        return try result.get()
    }

    private func advance(by n: Int, in w: ATWrite) {
        var left = n
        while left > 0, self.piece < w.parts.count {
            let remaining = w.parts[self.piece].count - self.offset
            if left >= remaining {
                left -= remaining
                self.piece += 1
                self.offset = 0
            } else {
                self.offset += left
                left = 0
            }
        }
        // Skip empty pieces so a finished write is noticed at once.
        while self.piece < w.parts.count, w.parts[self.piece].count == self.offset {
            self.piece += 1
            self.offset = 0
        }
    }

    /// Reads what is waiting, handing each chunk to `body`. Returns false when the other end
    /// hung up (EOF).
    func readAvailable(_ body: (UnsafeRawBufferPointer) -> Void) throws(SysError) -> Bool {
        for _ in 0..<64 {
            let attempt = self.readBuffer.withUnsafeMutableBytes { buffer in
                Result { () throws(SysError) -> IOResult<Int> in try self.port.read(into: buffer) }
            }
            switch try attempt.get() {
            case .wouldBlock:
                return true
            case .processed(0):
                return false
            case .processed(let n):
                self.bytesRead += n
                self.readBuffer.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
        }
        return true
    }
}
