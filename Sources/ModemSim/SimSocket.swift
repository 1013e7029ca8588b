/// One socket as the modem keeps it: the AT-visible state and the buffers between host and
/// network. Dialects read and change it; the core moves the bytes.
final class SimSocket {
    enum Service: Equatable {
        case tcp, udp, tcpListener, tcpIncoming, udpService
    }

    enum State: Equatable {
        /// Open requested, waiting for the network side.
        case opening
        case connected
        case listening
        /// The peer closed or the connection broke; the host must still close it.
        case remoteClosed
    }

    let linkID: Int
    var handle: SocketHandle
    var service: Service
    var state: State
    var remote: RemoteEndpoint?
    var localPort: Int
    /// Dialect-defined meaning: Quectel 0 buffer / 1 direct push / 2 transparent, etc.
    var accessMode: Int
    var contextID: Int
    /// For accepted clients: the listener's id.
    var serverID: Int
    /// For listeners: how many accepted clients it may have (EC <tcp_client_maxnum>).
    var maxClients = 12
    var receive: ReceiveQueue
    /// "Notify once until drained": true after a data-ready URC, false once the host has read
    /// the buffer empty (quectel.md §4.2, onemo.md §6, simcom-sim7028.md §7.5).
    var notified = false
    /// Bytes given to the network side and not yet taken by the kernel: the send buffer.
    var unsent = 0
    var totalSent = 0
    var totalAcked = 0
    var totalReceived = 0
    var totalRead = 0
    /// BC: an open that failed keeps its id until AT+QICLOSE.
    var failedOpen = false

    init(linkID: Int, handle: SocketHandle, service: Service, remote: RemoteEndpoint?, localPort: Int,
         accessMode: Int, contextID: Int, receiveCapacity: Int) {
        self.linkID = linkID
        self.handle = handle
        self.service = service
        self.state = .opening
        self.remote = remote
        self.localPort = localPort
        self.accessMode = accessMode
        self.contextID = contextID
        self.serverID = linkID
        self.receive = ReceiveQueue(capacity: receiveCapacity)
    }

    var isDatagram: Bool { service == .udp || service == .udpService }
}
