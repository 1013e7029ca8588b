/// An IPv4 "protocol" or IPv6 "next header" number (IANA Assigned Internet Protocol Numbers).
public struct IPProtocol: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let hopByHop = IPProtocol(rawValue: 0)
    public static let icmp = IPProtocol(rawValue: 1)
    public static let tcp = IPProtocol(rawValue: 6)
    public static let udp = IPProtocol(rawValue: 17)
    public static let ipv6Routing = IPProtocol(rawValue: 43)
    public static let ipv6Fragment = IPProtocol(rawValue: 44)
    public static let esp = IPProtocol(rawValue: 50)
    public static let authenticationHeader = IPProtocol(rawValue: 51)
    public static let icmpv6 = IPProtocol(rawValue: 58)
    public static let ipv6NoNextHeader = IPProtocol(rawValue: 59)
    public static let ipv6DestinationOptions = IPProtocol(rawValue: 60)

    public var description: String {
        switch self {
        case .hopByHop: "hop-by-hop"
        case .icmp: "icmp"
        case .tcp: "tcp"
        case .udp: "udp"
        case .ipv6Routing: "ipv6-route"
        case .ipv6Fragment: "ipv6-frag"
        case .esp: "esp"
        case .authenticationHeader: "ah"
        case .icmpv6: "icmpv6"
        case .ipv6NoNextHeader: "ipv6-nonxt"
        case .ipv6DestinationOptions: "ipv6-opts"
        default: "proto-\(rawValue)"
        }
    }
}
