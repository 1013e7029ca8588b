import Flows

/// A flow that can hold a modem socket: a TCP connection or a UDP session. The scheduler
/// grants sockets to these.
enum FlowRef: Hashable, CustomStringConvertible {
    case tcp(FlowKey)
    case udp(UDPSessionID)

    var description: String {
        switch self {
        case .tcp(let key): "\(key)"
        case .udp(let id): "\(id)"
        }
    }
}
