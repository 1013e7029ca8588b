import Buffers

final class OneMO: Dialect {
    let nbIoT: Bool
    init(nbIoT: Bool) { self.nbIoT = nbIoT }
    func execute(_ c: ATCommand, modem: SimModem, now: Instant) -> CommandReply { .unknown }
    func opened(_ s: SimSocket, modem: SimModem, now: Instant) {}
    func openFailed(_ s: SimSocket, modem: SimModem, now: Instant) { modem.release(s) }
    func dataArrived(_ s: SimSocket, modem: SimModem, now: Instant) {}
    func peerClosed(_ s: SimSocket, modem: SimModem, now: Instant) {}
    func accepted(listener: SimSocket, client: SocketHandle, from: RemoteEndpoint, localPort: Int, modem: SimModem, now: Instant) -> SimSocket? { nil }
    func queryEvent(_ event: SocketEvent, modem: SimModem, now: Instant) {}
    func networkLost(modem: SimModem, now: Instant) {}
    func bootURCs(modem: SimModem) -> [String] { [] }
    func powerOnReset() {}
}
