import Glibc

/// An IPv4 or IPv6 address as it goes into netlink messages (network byte order).
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6, in network byte order.
    public let bytes: [UInt8]

    /// Wraps 4 or 16 bytes; `nil` for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text with `inet_pton(3)`.
    public init?(_ text: String) {
        var storage = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, text, &storage) == 1 {
            self.bytes = Array(storage[..<4])
        } else if inet_pton(AF_INET6, text, &storage) == 1 {
            self.bytes = storage
        } else {
            return nil
        }
    }

    /// Whether this is an IPv6 address.
    public var isIPv6: Bool { self.bytes.count == 16 }

    /// `AF_INET` or `AF_INET6`.
    public var family: CInt { self.isIPv6 ? AF_INET6 : AF_INET }

    /// The longest prefix length for this family: 32 or 128.
    public var bitWidth: Int { self.bytes.count * 8 }

    /// Canonical text via `inet_ntop(3)` (`2001:db8::1`, not `2001:0db8:0:0::1`).
    public var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(self.family, self.bytes, &text, socklen_t(text.count)) != nil else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// An address with a prefix length, as in `10.64.0.1/24` or `fd00::1/64`.
///
/// For an interface address the host bits matter; for a route destination only the
/// network does (`network`).
public struct IPPrefix: Hashable, Sendable, CustomStringConvertible {
    /// The address as written.
    public let address: IPAddress
    /// Leading bits that name the network: 0...32 (IPv4) or 0...128 (IPv6).
    public let length: Int

    /// `nil` when `length` exceeds the family's width or is negative.
    public init?(address: IPAddress, length: Int) {
        guard length >= 0, length <= address.bitWidth else { return nil }
        self.address = address
        self.length = length
    }

    /// Parses CIDR text: `ADDRESS/LENGTH`, a bare address (a host: /32 or /128), or
    /// `default` (`0.0.0.0/0`; write `::/0` for the IPv6 default route).
    public init(parsing text: String) throws(SysError) {
        if text == "default" {
            self = Self.defaultIPv4
            return
        }
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else { throw .invalidAddress(text) }
        var length = address.bitWidth
        if parts.count == 2 {
            // Int(_:) accepts "+8"; a prefix length is digits only.
            guard !parts[1].isEmpty, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), parts[1].count <= 3,
                  let parsed = Int(parts[1]) else { throw .invalidAddress(text) }
            length = parsed
        }
        guard let prefix = IPPrefix(address: address, length: length) else { throw .invalidAddress(text) }
        self = prefix
    }

    /// `0.0.0.0/0`
    public static let defaultIPv4 = IPPrefix(address: IPAddress(bytes: [0, 0, 0, 0])!, length: 0)!
    /// `::/0`
    public static let defaultIPv6 = IPPrefix(address: IPAddress(bytes: [UInt8](repeating: 0, count: 16))!, length: 0)!

    /// The same prefix with the host bits cleared (`10.64.0.1/24` → `10.64.0.0/24`): the
    /// kernel refuses a route whose destination has host bits set.
    public var network: IPPrefix {
        var bytes = self.address.bytes
        for index in bytes.indices {
            let bitsKept = min(8, max(0, self.length - index * 8))
            bytes[index] &= bitsKept == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bitsKept))
        }
        return IPPrefix(address: IPAddress(bytes: bytes)!, length: self.length)!
    }

    public var description: String { "\(self.address)/\(self.length)" }
}
