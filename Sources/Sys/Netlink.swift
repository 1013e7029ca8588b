import CLinux
import Glibc

/// What the kernel reports about a network interface (`RTM_NEWLINK`).
public struct LinkInfo: Hashable, Sendable {
    /// `ifi_index`
    public var index: Int32
    /// `IFLA_IFNAME`
    public var name: String
    /// `IFLA_MTU`
    public var mtu: Int
    /// `IFF_UP` in `ifi_flags`: administratively up.
    public var isUp: Bool

    public init(index: Int32, name: String, mtu: Int, isUp: Bool) {
        self.index = index
        self.name = name
        self.mtu = mtu
        self.isUp = isUp
    }
}

/// A route of the main table (`RTM_NEWROUTE`).
public struct RouteEntry: Hashable, Sendable, CustomStringConvertible {
    /// `RTA_DST` / `rtm_dst_len`; the default route is `0.0.0.0/0` or `::/0`.
    public var destination: IPPrefix
    /// `RTA_OIF`: the interface it leaves through.
    public var linkIndex: Int32?
    /// `RTA_GATEWAY`, when the route has one.
    public var gateway: IPAddress?

    public init(destination: IPPrefix, linkIndex: Int32?, gateway: IPAddress?) {
        self.destination = destination
        self.linkIndex = linkIndex
        self.gateway = gateway
    }

    public var description: String {
        var text = destination.length == 0 ? "default" : destination.description
        if let gateway { text += " via \(gateway)" }
        if let linkIndex { text += " dev #\(linkIndex)" }
        return text
    }
}

/// Interface configuration over rtnetlink (`socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)`):
/// what `ip link`, `ip addr` and `ip route` do, without spawning them.
///
/// Every change is sent with `NLM_F_ACK` and waits for the kernel's answer, so failures
/// come back as `SysError.failed(call: "netlink add route", subject: "10.0.0.0/24 dev t2m0",
/// errno: ...)`, or as `.refusedByKernel` with the kernel's extended-ACK text when it gives
/// one ("netlink add address 10.0.0.1/24 dev t2m0: File exists (ipv4: Address already
/// assigned)"). Calls block (the kernel answers at once); the daemon configures before it enters
/// its event loop.
public struct Netlink: ~Copyable {
    private let socket: FileDescriptor
    private var sequence: UInt32 = 0
    /// Large enough for any single rtnetlink datagram (dumps come in page-sized pieces).
    private static let receiveCapacity = 65536

    /// Opens and binds the socket (kernel-assigned port id), with `NETLINK_EXT_ACK` so the
    /// kernel explains refusals, and a 5 s receive timeout so a lost answer cannot hang us.
    public init() throws(SysError) {
        let fd = try syscallValue("socket(AF_NETLINK)") {
            Glibc.socket(AF_NETLINK, CInt(SOCK_RAW.rawValue) | CInt(SOCK_CLOEXEC.rawValue), NETLINK_ROUTE)
        }
        let socket = FileDescriptor(adopting: fd)
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        _ = try syscallValue("bind(AF_NETLINK)") {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
                }
            }
        }
        var on: CInt = 1
        // Older kernels lack extended ACKs; the plain errno still arrives, so ignore failure.
        _ = setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, socklen_t(MemoryLayout<CInt>.size))
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        _ = try syscallValue("setsockopt(SO_RCVTIMEO)") {
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        self.socket = socket
    }

    // MARK: links

    /// The interface called `name` (`RTM_GETLINK` with `IFLA_IFNAME`).
    public mutating func link(named name: String) throws(SysError) -> LinkInfo {
        var request = self.request(type: UInt16(RTM_GETLINK), flags: 0, header: ifinfomsg())
        request.attribute(UInt16(IFLA_IFNAME), string: name)
        let replies = try self.exchange(request, operation: "netlink get link", subject: name)
        guard let reply = replies.first(where: { $0.type == UInt16(RTM_NEWLINK) }) else {
            throw .malformedNetlinkReply("no RTM_NEWLINK for \(name)")
        }
        return try Self.linkInfo(reply)
    }

    /// The index of the interface called `name`: what the other calls take.
    public mutating func linkIndex(named name: String) throws(SysError) -> Int32 {
        try self.link(named: name).index
    }

    /// The interface with index `index` (`RTM_GETLINK`).
    public mutating func link(index: Int32) throws(SysError) -> LinkInfo {
        var header = ifinfomsg()
        header.ifi_index = index
        let request = self.request(type: UInt16(RTM_GETLINK), flags: 0, header: header)
        let replies = try self.exchange(request, operation: "netlink get link", subject: "#\(index)")
        guard let reply = replies.first(where: { $0.type == UInt16(RTM_NEWLINK) }) else {
            throw .malformedNetlinkReply("no RTM_NEWLINK for #\(index)")
        }
        return try Self.linkInfo(reply)
    }

    /// Sets the MTU (`RTM_NEWLINK` with `IFLA_MTU`), e.g. to the modem's largest send so
    /// apps' TCP picks an MSS that fits one AT send.
    public mutating func setMTU(_ mtu: Int, link index: Int32) throws(SysError) {
        guard let value = UInt32(exactly: mtu) else { throw .failed(call: "netlink set mtu", subject: "\(mtu)", errno: .invalidArgument) }
        var header = ifinfomsg()
        header.ifi_index = index
        var request = self.request(type: UInt16(RTM_NEWLINK), flags: 0, header: header)
        request.attribute(UInt16(IFLA_MTU), uint32: value)
        _ = try self.exchange(request, operation: "netlink set mtu \(mtu)", subject: "dev \(Self.linkLabel(index))")
    }

    /// Brings the interface up or down (`RTM_NEWLINK`, `ifi_change = IFF_UP`).
    public mutating func setLinkUp(_ up: Bool, link index: Int32) throws(SysError) {
        var header = ifinfomsg()
        header.ifi_index = index
        header.ifi_flags = up ? UInt32(IFF_UP) : 0
        header.ifi_change = UInt32(IFF_UP)
        let request = self.request(type: UInt16(RTM_NEWLINK), flags: 0, header: header)
        _ = try self.exchange(request, operation: up ? "netlink set link up" : "netlink set link down", subject: "dev \(Self.linkLabel(index))")
    }

    // MARK: addresses

    /// Adds `prefix` (address and prefix length) to the interface (`RTM_NEWADDR`,
    /// `NLM_F_CREATE|NLM_F_EXCL`): an address already present fails with `.fileExists`.
    /// IPv6 addresses skip duplicate address detection (`IFA_F_NODAD`): a TUN has no
    /// neighbours, and DAD would leave the address unusable ("tentative") for a second.
    public mutating func addAddress(_ prefix: IPPrefix, link index: Int32) throws(SysError) {
        try self.changeAddress(UInt16(RTM_NEWADDR), NLM_F_CREATE | NLM_F_EXCL, prefix, index, "netlink add address")
    }

    /// Removes `prefix` from the interface (`RTM_DELADDR`).
    public mutating func removeAddress(_ prefix: IPPrefix, link index: Int32) throws(SysError) {
        try self.changeAddress(UInt16(RTM_DELADDR), 0, prefix, index, "netlink remove address")
    }

    private mutating func changeAddress(_ type: UInt16, _ flags: Int32, _ prefix: IPPrefix, _ index: Int32, _ operation: String) throws(SysError) {
        var header = ifaddrmsg()
        header.ifa_family = UInt8(prefix.address.family)
        header.ifa_prefixlen = UInt8(prefix.length)
        header.ifa_scope = UInt8(RT_SCOPE_UNIVERSE.rawValue)
        header.ifa_index = UInt32(bitPattern: index)
        if prefix.address.isIPv6 { header.ifa_flags = UInt8(IFA_F_NODAD) }
        var request = self.request(type: type, flags: flags, header: header)
        request.attribute(UInt16(IFA_LOCAL), prefix.address.bytes)
        request.attribute(UInt16(IFA_ADDRESS), prefix.address.bytes)
        _ = try self.exchange(request, operation: operation, subject: "\(prefix) dev \(Self.linkLabel(index))")
    }

    /// The addresses on the interface, IPv4 and IPv6 (`RTM_GETADDR` dump).
    public mutating func addresses(link index: Int32) throws(SysError) -> [IPPrefix] {
        var result: [IPPrefix] = []
        for reply in try self.dump(UInt16(RTM_GETADDR), header: ifaddrmsg(), operation: "netlink list addresses", subject: "dev \(Self.linkLabel(index))")
        where reply.type == UInt16(RTM_NEWADDR) {
            let header = try reply.header(ifaddrmsg.self)
            guard Int32(bitPattern: header.ifa_index) == index else { continue }
            let attributes = try reply.attributes(after: ifaddrmsg.self)
            // IFA_LOCAL is the interface's own address; IFA_ADDRESS may be the peer's.
            guard let bytes = attributes[UInt16(IFA_LOCAL)] ?? attributes[UInt16(IFA_ADDRESS)],
                  let address = IPAddress(bytes: Array(bytes)),
                  let prefix = IPPrefix(address: address, length: Int(header.ifa_prefixlen)) else {
                throw .malformedNetlinkReply("address without a valid IFA_LOCAL/IFA_ADDRESS")
            }
            result.append(prefix)
        }
        return result
    }

    // MARK: routes

    /// Routes `destination` (its network part; `IPPrefix.defaultIPv4` / `.defaultIPv6` for
    /// the default route) through the interface, in the main table (`RTM_NEWROUTE`,
    /// `NLM_F_CREATE|NLM_F_EXCL`, protocol boot, link scope for IPv4, as `ip route add
    /// PREFIX dev NAME` does). An existing route fails with `.fileExists`.
    public mutating func addRoute(_ destination: IPPrefix, link index: Int32) throws(SysError) {
        var header = self.routeHeader(destination)
        header.rtm_protocol = UInt8(RTPROT_BOOT)
        // A route without a gateway reaches hosts directly on the link.
        header.rtm_scope = destination.address.isIPv6 ? UInt8(RT_SCOPE_UNIVERSE.rawValue) : UInt8(RT_SCOPE_LINK.rawValue)
        header.rtm_type = UInt8(RTN_UNICAST)
        try self.changeRoute(UInt16(RTM_NEWROUTE), NLM_F_CREATE | NLM_F_EXCL, header, destination, index, "netlink add route")
    }

    /// Removes the route to `destination` through the interface (`RTM_DELROUTE`; any
    /// scope, protocol and type, like `ip route del`).
    public mutating func removeRoute(_ destination: IPPrefix, link index: Int32) throws(SysError) {
        var header = self.routeHeader(destination)
        header.rtm_scope = UInt8(RT_SCOPE_NOWHERE.rawValue)
        try self.changeRoute(UInt16(RTM_DELROUTE), 0, header, destination, index, "netlink remove route")
    }

    private func routeHeader(_ destination: IPPrefix) -> rtmsg {
        var header = rtmsg()
        header.rtm_family = UInt8(destination.address.family)
        header.rtm_dst_len = UInt8(destination.length)
        header.rtm_table = UInt8(RT_TABLE_MAIN.rawValue)
        return header
    }

    private mutating func changeRoute(
        _ type: UInt16, _ flags: Int32, _ header: rtmsg, _ destination: IPPrefix, _ index: Int32, _ operation: String
    ) throws(SysError) {
        let network = destination.network
        var request = self.request(type: type, flags: flags, header: header)
        if network.length > 0 { request.attribute(UInt16(RTA_DST.rawValue), network.address.bytes) }
        request.attribute(UInt16(RTA_OIF.rawValue), uint32: UInt32(bitPattern: index))
        let shown = network.length == 0 ? "default" : network.description
        _ = try self.exchange(request, operation: operation, subject: "\(shown) dev \(Self.linkLabel(index))")
    }

    /// The main table's routes of one family (`ipv6: false` → IPv4) (`RTM_GETROUTE` dump).
    public mutating func routes(ipv6: Bool) throws(SysError) -> [RouteEntry] {
        var header = rtmsg()
        header.rtm_family = UInt8(ipv6 ? AF_INET6 : AF_INET)
        var result: [RouteEntry] = []
        for reply in try self.dump(UInt16(RTM_GETROUTE), header: header, operation: "netlink list routes", subject: nil)
        where reply.type == UInt16(RTM_NEWROUTE) {
            let route = try reply.header(rtmsg.self)
            let attributes = try reply.attributes(after: rtmsg.self)
            let table = attributes[UInt16(RTA_TABLE.rawValue)]?.netlinkUInt32 ?? UInt32(route.rtm_table)
            guard table == RT_TABLE_MAIN.rawValue, route.rtm_family == header.rtm_family else { continue }
            let width = ipv6 ? 16 : 4
            let destinationBytes = attributes[UInt16(RTA_DST.rawValue)].map(Array.init) ?? [UInt8](repeating: 0, count: width)
            guard let address = IPAddress(bytes: destinationBytes),
                  let destination = IPPrefix(address: address, length: Int(route.rtm_dst_len)) else {
                throw .malformedNetlinkReply("route with a bad RTA_DST")
            }
            let gateway = attributes[UInt16(RTA_GATEWAY.rawValue)].flatMap { IPAddress(bytes: Array($0)) }
            let link = attributes[UInt16(RTA_OIF.rawValue)]?.netlinkUInt32.map { Int32(bitPattern: $0) }
            result.append(RouteEntry(destination: destination, linkIndex: link, gateway: gateway))
        }
        return result
    }

    // MARK: exchange

    /// A dump request; if the table changed while the kernel walked it
    /// (`NLM_F_DUMP_INTR` on a part), it is asked again, up to 3 times, as iproute2 advises.
    private mutating func dump<Header>(
        _ type: UInt16, header: Header, operation: String, subject: @autoclosure () -> String?
    ) throws(SysError) -> [NetlinkReply] {
        var replies: [NetlinkReply] = []
        for _ in 0..<3 {
            let request = self.request(type: type, flags: NLM_F_DUMP, header: header)
            replies = try self.exchange(request, operation: operation, subject: subject())
            if !replies.contains(where: { $0.flags & UInt16(NLM_F_DUMP_INTR) != 0 }) { break }
        }
        return replies
    }

    private mutating func request<Header>(type: UInt16, flags: Int32, header: Header) -> NetlinkRequest {
        self.sequence &+= 1
        // Dumps end with NLMSG_DONE; everything else is acknowledged.
        let ack = flags & NLM_F_DUMP == NLM_F_DUMP ? 0 : NLM_F_ACK
        return NetlinkRequest(type: type, flags: NLM_F_REQUEST | ack | flags, sequence: self.sequence, header: header)
    }

    /// Sends `request` and collects the replies that carry its sequence number until the
    /// ACK (`NLMSG_ERROR` with 0), an error (`NLMSG_ERROR` with -errno) or `NLMSG_DONE`.
    private func exchange(
        _ request: NetlinkRequest, operation: String, subject: @autoclosure () -> String?
    ) throws(SysError) -> [NetlinkReply] {
        let message = request.finished()
        let sequence = self.sequence
        // Array.withUnsafeBytes rethrows untyped errors, so the call's Result crosses it.
        let sent = try message.withUnsafeBytes { bytes in
            Result { () throws(SysError) in
                try syscallValue("send(AF_NETLINK)", subject()) { Glibc.send(self.socket.rawValue, bytes.baseAddress, bytes.count, 0) }
            }
        }.get()
        guard sent == message.count else { throw .messageTooLong(message.count, limit: sent) }

        var collected: [NetlinkReply] = []
        var buffer = [UInt8](repeating: 0, count: Self.receiveCapacity)
        // Bounded: a dump of a busy routing table spans many datagrams, but not this many.
        for _ in 0..<100_000 {
            let received = try buffer.withUnsafeMutableBytes { bytes in
                Result { () throws(SysError) in
                    try syscallValue("recv(AF_NETLINK)", subject()) {
                        Glibc.recv(self.socket.rawValue, bytes.baseAddress, bytes.count, CInt(MSG_TRUNC))
                    }
                }
            }.get()
            guard received <= buffer.count else { throw .messageTooLong(received, limit: buffer.count) }
            for reply in try NetlinkReply.split(buffer[..<received]) where reply.sequence == sequence {
                switch Int32(reply.type) {
                case NLMSG_ERROR:
                    try Self.checkAcknowledgement(reply, operation: operation, subject: subject)
                    return collected
                case NLMSG_DONE:
                    // A failed dump reports -errno in the int that follows the header.
                    if let code = reply.payload.prefix(4).netlinkUInt32.map({ Int32(bitPattern: $0) }), code < 0 {
                        throw .failed(call: operation, subject: subject(), errno: Errno(rawValue: 0 - code))
                    }
                    return collected
                default:
                    collected.append(reply)
                }
            }
        }
        throw .malformedNetlinkReply("no end to the reply of \(operation)")
    }

    /// `struct nlmsgerr`: error 0 is an ACK; otherwise -errno, maybe with an extended-ACK
    /// message (`NLMSGERR_ATTR_MSG`) after the echoed request header.
    private static func checkAcknowledgement(
        _ reply: NetlinkReply, operation: String, subject: () -> String?
    ) throws(SysError) {
        let error = try reply.header(nlmsgerr.self)
        if error.error == 0 { return }
        let errno = Errno(rawValue: -error.error)
        if reply.flags & UInt16(NLM_F_ACK_TLVS) != 0 {
            // With NLM_F_CAPPED only the echoed header is there; otherwise the whole request.
            let echoed = reply.flags & UInt16(NLM_F_CAPPED) != 0 ? MemoryLayout<nlmsghdr>.size : Int(error.msg.nlmsg_len)
            let start = reply.payload.startIndex + MemoryLayout<Int32>.size + Int(clinux_nlmsg_align(UInt32(echoed)))
            if start <= reply.payload.endIndex,
               let text = try? NetlinkReply.attributes(in: reply.payload[start...])[UInt16(NLMSGERR_ATTR_MSG.rawValue)]?.netlinkString,
               !text.isEmpty {
                throw .refusedByKernel(call: operation, subject: subject(), errno: errno, reason: text)
            }
        }
        throw .failed(call: operation, subject: subject(), errno: errno)
    }

    /// The interface's name for error messages (`if_indextoname(3)`), or `#index`.
    /// Only evaluated when a request failed.
    private static func linkLabel(_ index: Int32) -> String {
        var name = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        guard index > 0, if_indextoname(UInt32(index), &name) != nil else { return "#\(index)" }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func linkInfo(_ reply: NetlinkReply) throws(SysError) -> LinkInfo {
        let header = try reply.header(ifinfomsg.self)
        let attributes = try reply.attributes(after: ifinfomsg.self)
        guard let mtu = attributes[UInt16(IFLA_MTU)]?.netlinkUInt32 else {
            throw .malformedNetlinkReply("link #\(header.ifi_index) without IFLA_MTU")
        }
        return LinkInfo(
            index: header.ifi_index,
            name: attributes[UInt16(IFLA_IFNAME)]?.netlinkString ?? "",
            mtu: Int(mtu),
            isUp: header.ifi_flags & UInt32(IFF_UP) != 0)
    }
}
