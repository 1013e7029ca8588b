import Glibc
import Buffers
import Sys

/// Reads from `fd` until `count` bytes arrived or `timeout` passed, waiting with poll so the
/// test never sleeps blindly.
func readExactly(_ count: Int, from fd: borrowing FileDescriptor, timeout: Duration = .seconds(5)) throws -> [UInt8] {
    var received: [UInt8] = []
    let deadline = MonotonicClock.now() + timeout
    var chunk = [UInt8](repeating: 0, count: 4096)
    while received.count < count {
        let left = deadline - MonotonicClock.now()
        if left <= .zero { break }
        var requests = [PollRequest(fd: fd.rawValue, events: .readable)]
        if try Poll.wait(&requests, timeout: left) == 0 { break }
        let result = try chunk.withUnsafeMutableBytes { try fd.read(into: $0) }
        switch result {
        case .processed(0): return received
        case .processed(let n): received += chunk[..<n]
        case .wouldBlock: continue
        }
    }
    return received
}

/// Reads until end of file (bounded by `timeout` and 1 MiB).
func readToEnd(_ fd: borrowing FileDescriptor, timeout: Duration = .seconds(5)) throws -> [UInt8] {
    try readExactly(1 << 20, from: fd, timeout: timeout)
}

/// Writes all of `bytes`, waiting for writability when the descriptor is full.
func writeAll(_ bytes: [UInt8], to fd: borrowing FileDescriptor, timeout: Duration = .seconds(5)) throws {
    var offset = 0
    let deadline = MonotonicClock.now() + timeout
    while offset < bytes.count, MonotonicClock.now() < deadline {
        let result = try bytes.withUnsafeBytes { try fd.write(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
        switch result {
        case .processed(let n): offset += n
        case .wouldBlock:
            var requests = [PollRequest(fd: fd.rawValue, events: .writable)]
            _ = try Poll.wait(&requests, timeout: deadline - MonotonicClock.now())
        }
    }
}

/// A fresh directory under /tmp, removed by the caller with `removeTree`.
func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/t2m-sys-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(made != nil, "mkdtemp failed")
    return String(cString: made!)
}

func removeTree(_ path: String) {
    precondition(path.hasPrefix("/tmp/t2m-"))
    _ = system("rm -rf '\(path)'")
}
