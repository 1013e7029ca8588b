import CLinux
import Glibc

/// Builds one rtnetlink request: `struct nlmsghdr`, a fixed family header (`ifinfomsg`,
/// `ifaddrmsg`, `rtmsg`), then `rtattr`s, each padded to 4 bytes (`NLMSG_ALIGN`,
/// `RTA_ALIGN`). Structures are copied from the kernel headers' own layouts.
struct NetlinkRequest {
    private(set) var bytes: [UInt8] = []

    init<Header>(type: UInt16, flags: Int32, sequence: UInt32, header: Header) {
        var message = nlmsghdr()
        message.nlmsg_type = type
        message.nlmsg_flags = UInt16(truncatingIfNeeded: flags)
        message.nlmsg_seq = sequence
        message.nlmsg_pid = 0   // to the kernel
        self.append(message)
        self.append(header)
    }

    private mutating func append<Value>(_ value: Value) {
        withUnsafeBytes(of: value) { self.bytes.append(contentsOf: $0) }
        self.pad()
    }

    private mutating func pad() {
        let aligned = Int(clinux_nlmsg_align(UInt32(self.bytes.count)))
        self.bytes.append(contentsOf: repeatElement(0, count: aligned - self.bytes.count))
    }

    /// An attribute of `type` carrying `payload` (`struct rtattr` + data + padding).
    mutating func attribute(_ type: UInt16, _ payload: [UInt8]) {
        var header = rtattr()
        header.rta_len = UInt16(Int(clinux_rta_hdrlen()) + payload.count)
        header.rta_type = type
        withUnsafeBytes(of: header) { self.bytes.append(contentsOf: $0) }
        self.bytes.append(contentsOf: payload)
        self.pad()
    }

    /// A 32-bit attribute in host byte order (`IFLA_MTU`, `RTA_OIF`).
    mutating func attribute(_ type: UInt16, uint32 value: UInt32) {
        self.attribute(type, withUnsafeBytes(of: value) { Array($0) })
    }

    /// A NUL-terminated string attribute (`IFLA_IFNAME`).
    mutating func attribute(_ type: UInt16, string: String) {
        self.attribute(type, Array(string.utf8) + [0])
    }

    /// The finished message with `nlmsg_len` filled in.
    func finished() -> [UInt8] {
        var result = self.bytes
        let length = UInt32(result.count)
        withUnsafeBytes(of: length) { result.replaceSubrange(0..<4, with: $0) }
        return result
    }
}

/// One message of a netlink reply, with bounds-checked access: a reply is data from the
/// kernel, but a short or garbled one must become an error, not a crash.
struct NetlinkReply {
    let type: UInt16
    let flags: UInt16
    let sequence: UInt32
    /// The bytes after `nlmsghdr`, up to `nlmsg_len`.
    let payload: ArraySlice<UInt8>

    /// Splits a datagram into messages (`NLMSG_OK` / `NLMSG_NEXT`).
    static func split(_ datagram: ArraySlice<UInt8>) throws(SysError) -> [NetlinkReply] {
        var replies: [NetlinkReply] = []
        var offset = datagram.startIndex
        let headerLength = MemoryLayout<nlmsghdr>.size
        while datagram.endIndex - offset >= headerLength {
            let header = datagram.withUnsafeBytes {
                $0.loadUnaligned(fromByteOffset: offset - datagram.startIndex, as: nlmsghdr.self)
            }
            let length = Int(header.nlmsg_len)
            guard length >= headerLength, length <= datagram.endIndex - offset else {
                throw .malformedNetlinkReply("message length \(length) with \(datagram.endIndex - offset) bytes left")
            }
            replies.append(NetlinkReply(
                type: header.nlmsg_type, flags: header.nlmsg_flags, sequence: header.nlmsg_seq,
                payload: datagram[(offset + headerLength)..<(offset + length)]))
            offset += min(Int(clinux_nlmsg_align(UInt32(length))), datagram.endIndex - offset)
        }
        return replies
    }

    /// The fixed family header at the start of the payload, or an error if it is short.
    func header<Header>(_: Header.Type) throws(SysError) -> Header {
        guard self.payload.count >= MemoryLayout<Header>.size else {
            throw .malformedNetlinkReply("\(Header.self) needs \(MemoryLayout<Header>.size) bytes, got \(self.payload.count)")
        }
        return self.payload.withUnsafeBytes { $0.loadUnaligned(as: Header.self) }
    }

    /// The `rtattr`s after a fixed header of `Header`'s size, by type (the last one wins).
    func attributes<Header>(after _: Header.Type) throws(SysError) -> [UInt16: ArraySlice<UInt8>] {
        let start = self.payload.startIndex + Int(clinux_nlmsg_align(UInt32(MemoryLayout<Header>.size)))
        guard start <= self.payload.endIndex else { throw .malformedNetlinkReply("no room for attributes") }
        return try Self.attributes(in: self.payload[start...])
    }

    /// Parses a run of `rtattr`s (`RTA_OK` / `RTA_NEXT`).
    static func attributes(in bytes: ArraySlice<UInt8>) throws(SysError) -> [UInt16: ArraySlice<UInt8>] {
        var result: [UInt16: ArraySlice<UInt8>] = [:]
        var offset = bytes.startIndex
        let headerLength = Int(clinux_rta_hdrlen())
        while bytes.endIndex - offset >= headerLength {
            let header = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset - bytes.startIndex, as: rtattr.self) }
            let length = Int(header.rta_len)
            guard length >= headerLength, length <= bytes.endIndex - offset else {
                throw .malformedNetlinkReply("attribute \(header.rta_type) length \(length) with \(bytes.endIndex - offset) bytes left")
            }
            // NLA_F_NESTED and NLA_F_NET_BYTEORDER live in the top bits of the type.
            result[header.rta_type & 0x3FFF] = bytes[(offset + headerLength)..<(offset + length)]
            offset += min(Int(clinux_rta_align(UInt32(length))), bytes.endIndex - offset)
        }
        return result
    }
}

extension ArraySlice<UInt8> {
    /// A host-order 32-bit value if the slice holds exactly 4 bytes.
    var netlinkUInt32: UInt32? {
        guard self.count == 4 else { return nil }
        return self.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
    }

    /// A NUL-terminated string attribute's text.
    var netlinkString: String {
        String(decoding: self.prefix { $0 != 0 }, as: UTF8.self)
    }
}
