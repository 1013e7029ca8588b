import Buffers
import Foundation
import Glibc
@testable import Flows
import Wire

/// A private network namespace with a TUN device, where a real Linux TCP socket (the "app")
/// talks to a `TCPEndpoint` over IPv4. It needs root and `/dev/net/tun`; tests that use it
/// are disabled (and say why) without them.
///
/// Everything runs on one dedicated thread, because `unshare(CLONE_NEWNET)` moves only the
/// calling thread into the new namespace: a pooled thread must never be moved.
enum TCPKernelLab {
    static let appAddress: UInt32 = 0x0A09_0001  // 10.9.0.1, the TUN's own address
    static let remoteAddress: UInt32 = 0x0A09_0002  // 10.9.0.2, reached through the TUN

    static var available: Bool {
        getuid() == 0 && access("/dev/net/tun", R_OK | W_OK) == 0 && access("/usr/sbin/ip", X_OK) == 0
            || (getuid() == 0 && access("/dev/net/tun", R_OK | W_OK) == 0 && access("/sbin/ip", X_OK) == 0)
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
        let path = access("/usr/sbin/ip", X_OK) == 0 ? "/usr/sbin/ip" : "/sbin/ip"
        var pid: pid_t = 0
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        guard posix_spawn(&pid, path, nil, nil, argv, environ) == 0 else { throw LabError("spawn ip") }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        guard status == 0 else { throw LabError("ip \(arguments.joined(separator: " ")) exited \(status)") }
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

/// Just enough IPv4 and TCP to put a `TCPRepr` on the wire and take one off it, so the
/// kernel test does not depend on anything but the endpoint. (Wire has the real codec.)
enum TCPKernelCodec {
    struct Segment {
        var source: UInt32
        var destination: UInt32
        var repr: TCPRepr
        var payload: [UInt8]
    }

    static func parse(_ packet: [UInt8]) -> Segment? {
        guard packet.count >= 20, packet[0] >> 4 == 4, packet[9] == 6 else { return nil }
        let ihl = Int(packet[0] & 0x0F) * 4
        let total = Int(be16(packet, 2))
        guard total <= packet.count, ihl >= 20, total >= ihl + 20 else { return nil }
        let tcp = Array(packet[ihl ..< total])
        let dataOffset = Int(tcp[12] >> 4) * 4
        guard dataOffset >= 20, dataOffset <= tcp.count else { return nil }
        let bits = tcp[13]
        var flags: TCPFlags = []
        if bits & 0x01 != 0 { flags.insert(.fin) }
        if bits & 0x02 != 0 { flags.insert(.syn) }
        if bits & 0x04 != 0 { flags.insert(.rst) }
        if bits & 0x08 != 0 { flags.insert(.psh) }
        var repr = TCPRepr(
            sourcePort: be16(tcp, 0), destinationPort: be16(tcp, 2),
            sequenceNumber: SeqNumber(rawValue: be32(tcp, 4)),
            ackNumber: bits & 0x10 != 0 ? SeqNumber(rawValue: be32(tcp, 8)) : nil,
            flags: flags, windowLength: be16(tcp, 14), payloadLength: tcp.count - dataOffset)
        var i = 20
        while i < dataOffset {
            let kind = tcp[i]
            if kind == 0 { break }
            if kind == 1 { i += 1; continue }
            guard i + 1 < dataOffset else { break }
            let length = Int(tcp[i + 1])
            guard length >= 2, i + length <= dataOffset else { break }
            switch (kind, length) {
            case (2, 4): repr.maxSegmentSize = be16(tcp, i + 2)
            case (3, 3): repr.windowScale = min(tcp[i + 2], 14)
            case (4, 2): repr.sackPermitted = true
            case (8, 10): repr.timestamp = TCPTimestamp(value: be32(tcp, i + 2), echoReply: be32(tcp, i + 6))
            default: break
            }
            i += length
        }
        return Segment(
            source: be32(packet, 12), destination: be32(packet, 16), repr: repr,
            payload: Array(tcp[dataOffset...]))
    }

    static func emit(_ repr: TCPRepr, payload: [UInt8], source: UInt32, destination: UInt32) -> [UInt8] {
        var options: [UInt8] = []
        if let mss = repr.maxSegmentSize { options += [2, 4, UInt8(mss >> 8), UInt8(mss & 0xFF)] }
        if repr.sackPermitted { options += [4, 2] }
        if let ts = repr.timestamp { options += [1, 1, 8, 10] + bytes32(ts.value) + bytes32(ts.echoReply) }
        if let shift = repr.windowScale { options += [1, 3, 3, shift] }
        if !repr.sackRanges.isEmpty {
            options += [1, 1, 5, UInt8(2 + 8 * repr.sackRanges.count)]
            for block in repr.sackRanges { options += bytes32(block.left.rawValue) + bytes32(block.right.rawValue) }
        }
        while options.count % 4 != 0 { options.append(0) }
        var bits: UInt8 = 0
        if repr.flags.contains(.fin) { bits |= 0x01 }
        if repr.flags.contains(.syn) { bits |= 0x02 }
        if repr.flags.contains(.rst) { bits |= 0x04 }
        if repr.flags.contains(.psh) { bits |= 0x08 }
        if repr.ackNumber != nil { bits |= 0x10 }
        var tcp = bytes16(repr.sourcePort) + bytes16(repr.destinationPort)
            + bytes32(repr.sequenceNumber.rawValue) + bytes32(repr.ackNumber?.rawValue ?? 0)
            + [UInt8((20 + options.count) / 4) << 4, bits] + bytes16(repr.windowLength) + [0, 0, 0, 0]
            + options + payload
        let pseudo = bytes32(source) + bytes32(destination) + [0, 6] + bytes16(UInt16(tcp.count))
        let sum = checksum(pseudo + tcp)
        tcp[16] = UInt8(sum >> 8)
        tcp[17] = UInt8(sum & 0xFF)
        var ip: [UInt8] = [0x45, 0] + bytes16(UInt16(20 + tcp.count)) + [0, 0, 0x40, 0, 64, 6, 0, 0]
            + bytes32(source) + bytes32(destination)
        let ipSum = checksum(ip)
        ip[10] = UInt8(ipSum >> 8)
        ip[11] = UInt8(ipSum & 0xFF)
        return ip + tcp
    }

    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count {
            sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    static func be16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }
    static func be32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }
    static func bytes16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    static func bytes32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
}
