import Buffers
import Foundation
import Glibc
@testable import Flows
import Wire

/// A private network namespace with a TUN device, where a real Linux TCP socket (the "app")
/// talks to a `TCPEndpoint` over IPv4 or IPv6. It needs root, `/dev/net/tun` and ip(8);
/// tests that use it are disabled (and say why) without them.
///
/// Everything runs on one dedicated thread, because `unshare(CLONE_NEWNET)` moves only the
/// calling thread into the new namespace: a pooled thread must never be moved.
enum TCPKernelLab {
    // The TUN has 10.9.0.1/24 and fd09::1/64; 10.9.0.2 and fd09::2 are reached through it
    // (see `TCPKernelCodec`).

    static var available: Bool {
        getuid() == 0 && access("/dev/net/tun", R_OK | W_OK) == 0 && ipPath != nil
    }

    static var ipPath: String? {
        ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { access($0, X_OK) == 0 }
    }

    struct LabError: Error, CustomStringConvertible {
        var description: String
        init(_ what: String) { description = "\(what): errno \(errno) (\(String(cString: strerror(errno))))" }
    }

    /// Runs `body` on a fresh thread inside a new network namespace with `tun` up and
    /// addressed; returns what it returned.
    static func run<R: Sendable>(_ body: @escaping @Sendable (Int32) throws -> R) throws -> R {
        let box = TCPKernelLabResult<R>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.result = Result {
                guard linuxUnshare(cloneNewNet) == 0 else { throw LabError("unshare") }
                let tun = try openTUN(name: "t2m0")
                defer { close(tun) }
                try ip("link", "set", "lo", "up")
                try ip("addr", "add", "10.9.0.1/24", "dev", "t2m0")
                // nodad: usable at once, without duplicate address detection's delay.
                try ip("-6", "addr", "add", "fd09::1/64", "dev", "t2m0", "nodad")
                try ip("link", "set", "t2m0", "up")
                return try body(tun)
            }
            done.signal()
        }
        thread.start()
        done.wait()
        guard let result = box.result else { throw LabError("lab thread ended without a result") }
        return try result.get()
    }

    /// TUNSETIFF with IFF_TUN | IFF_NO_PI (linux/if_tun.h): raw IP packets, no header.
    static func openTUN(name: String) throws -> Int32 {
        let fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK)
        guard fd >= 0 else { throw LabError("open /dev/net/tun") }
        var request = ifreq()
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { raw in
            for (i, byte) in name.utf8.prefix(15).enumerated() { raw[i] = byte }
        }
        request.ifr_ifru.ifru_flags = 0x0001 | 0x1000
        let tunSetIff: UInt = 0x4004_54CA  // _IOW('T', 202, int)
        guard ioctl(fd, tunSetIff, &request) == 0 else {
            close(fd)
            throw LabError("TUNSETIFF")
        }
        return fd
    }

    /// Runs `ip` (which inherits this thread's namespace) and waits for it.
    static func ip(_ arguments: String...) throws {
        guard let path = ipPath else { throw LabError("no ip(8)") }
        var pid: pid_t = 0
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        guard posix_spawn(&pid, path, nil, nil, argv, environ) == 0 else { throw LabError("spawn ip") }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        guard status == 0 else { throw LabError("ip \(arguments.joined(separator: " ")) exited \(status)") }
    }

    /// A counter of the kernel's TCP in this thread's namespace: `table` "Tcp" or "TcpExt"
    /// from /proc/thread-self/net/snmp or netstat (/proc/self would show the main thread's).
    static func kernelCounter(_ table: String, _ name: String) -> Int? {
        let file = table == "Tcp" ? "/proc/thread-self/net/snmp" : "/proc/thread-self/net/netstat"
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n").filter { $0.hasPrefix(table + ":") }
        guard lines.count == 2 else { return nil }
        let names = lines[0].split(separator: " ").dropFirst()
        let values = lines[1].split(separator: " ").dropFirst()
        guard let i = names.firstIndex(of: Substring(name)) else { return nil }
        return Int(values[values.startIndex + (i - names.startIndex)])
    }

    /// CLONE_NEWNET (linux/sched.h); Glibc does not export `unshare` without _GNU_SOURCE.
    static let cloneNewNet: Int32 = 0x4000_0000

    static func monotonicNow() -> Instant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Instant(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }
}

/// The outcome handed back from the lab's thread.
final class TCPKernelLabResult<R>: @unchecked Sendable {
    var result: Result<R, any Error>?
}

@_silgen_name("unshare")
private func linuxUnshare(_ flags: Int32) -> Int32

/// IPv4 + TCP on and off the wire with Wire's views and reprs (the real codec, so these
/// tests check Wire and the endpoint together against the kernel).
enum TCPKernelCodec {
    struct Segment {
        var source: IPAddress
        var destination: IPAddress
        var repr: TCPRepr
        var payload: [UInt8]
        /// The whole packet, for an ICMP error that must quote it.
        var packet: [UInt8]
    }

    static let app = IPAddress.v4(IPv4Address(10, 9, 0, 1))
    static let remote = IPAddress.v4(IPv4Address(10, 9, 0, 2))

    /// A TCP segment from the app, or nil for anything else (or anything malformed).
    static func parse(_ packet: [UInt8]) -> Segment? {
        packet.withUnsafeBytes { raw -> Segment? in
            guard let ip = try? IPPacket(validating: raw), ip.protocol == .tcp, !ip.isFragment,
                  let repr = try? TCPRepr.parse(ip.payload, source: ip.source, destination: ip.destination)
            else { return nil }
            let payload = Array(ip.payload[(ip.payload.count - repr.payloadLength)...])
            return Segment(
                source: ip.source, destination: ip.destination, repr: repr, payload: payload, packet: packet)
        }
    }

    /// Writes a segment to the TUN the way the bridge will: IP and TCP headers built in a
    /// small buffer, the payload left where the endpoint holds it, one `writev`.
    static func write(
        _ repr: TCPRepr, payload: UnsafeRawBufferPointer, to tun: Int32,
        from source: IPAddress = remote, toward destination: IPAddress = app
    ) {
        let ip = IPRepr(source: source, destination: destination, protocol: .tcp, payloadLength: repr.bufferLength)
        var header = [UInt8](repeating: 0, count: ip.headerLength + repr.headerLength)
        header.withUnsafeMutableBytes { buffer in
            ip.emit(into: buffer)
            repr.emit(
                into: UnsafeMutableRawBufferPointer(rebasing: buffer[ip.headerLength...]),
                source: source, destination: destination, payload: payload)
            var pieces = [
                iovec(iov_base: buffer.baseAddress, iov_len: buffer.count),
                iovec(iov_base: UnsafeMutableRawPointer(mutating: payload.baseAddress), iov_len: payload.count),
            ]
            _ = writev(tun, &pieces, payload.isEmpty ? 1 : 2)
        }
    }

    /// ICMP destination unreachable (host) quoting `original`, as the bridge answers a SYN
    /// the modem has no route for.
    static func unreachable(answering original: [UInt8]) -> [UInt8]? {
        original.withUnsafeBytes { raw in
            guard let ip = try? IPPacket(validating: raw) else { return nil }
            return ICMPErrorReply.packet(answering: ip, with: .destinationUnreachable(.host))
        }
    }
}
