import Modems

/// What the bridge core is told at start: the modem's limits come from the driver, the rest
/// from the command line.
public struct BridgeConfig: Sendable {
    /// The APN to configure at bring-up; nil keeps the modem's.
    public var apn: String?
    /// The TUN's MTU: TCP segments to the app are sized from it.
    public var mtu: Int
    /// Flows held at once (TCP, UDP, ICMP), each with its buffers.
    public var maxFlows: Int
    /// Buffer memory shared by every TCP flow.
    public var tcpBufferBudget: Int
    /// SYNs waiting for a modem socket beyond the model's limit, and how long each may wait.
    public var admissionQueueLimit: Int
    public var admissionTimeout: Duration
    /// How often the modem is asked which sockets it holds (URCs get lost).
    public var reconcileInterval: Duration
    /// After the app half-closes, how long the modem socket stays open for the peer's answer
    /// (AT socket commands have no half-close).
    public var halfCloseLinger: Duration
    /// After `SEND FAIL` (the modem's buffer is full), the pause before sending again.
    public var sendBusyPause: Duration
    /// After a flow's bytes went out and it has nothing more to send, how long the bridge
    /// waits for the modem's data-ready notice before reading anyway (then twice as long,
    /// `dataProbes` times in all). Modems hold URCs back (while a command runs, or for a
    /// while at random in tun2modem-sim), and a held notice must not hold up the answer.
    public var dataProbeDelay: Duration
    public var dataProbes: Int
    /// Bring-up retries back off from the first to the last of these.
    public var bringUpBackoff: [Duration]
    /// How long bring-up may wait at its slow steps.
    public var bringUpLimits: BringUpLimits

    public init(apn: String? = nil, mtu: Int = 1500, maxFlows: Int = 1024,
                tcpBufferBudget: Int = 32 << 20, admissionQueueLimit: Int = 256,
                admissionTimeout: Duration = .seconds(30), reconcileInterval: Duration = .seconds(30),
                halfCloseLinger: Duration = .seconds(1), sendBusyPause: Duration = .milliseconds(100),
                dataProbeDelay: Duration = .milliseconds(50), dataProbes: Int = 3,
                bringUpBackoff: [Duration] = [.seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30)],
                bringUpLimits: BringUpLimits = BringUpLimits()) {
        self.apn = apn
        self.mtu = mtu
        self.maxFlows = maxFlows
        self.tcpBufferBudget = tcpBufferBudget
        self.admissionQueueLimit = admissionQueueLimit
        self.admissionTimeout = admissionTimeout
        self.reconcileInterval = reconcileInterval
        self.halfCloseLinger = halfCloseLinger
        self.sendBusyPause = sendBusyPause
        self.dataProbeDelay = dataProbeDelay
        self.dataProbes = max(0, dataProbes)
        self.bringUpBackoff = bringUpBackoff
        self.bringUpLimits = bringUpLimits
    }
}
