/// The AT socket dialect a model speaks; each has its own file of command handlers.
public enum DialectKind: String, Sendable {
    /// Quectel EC600E/EC800E, LTE Cat-1: `AT+QIOPEN/QISEND/QIRD` (quectel.md, "EC").
    case quectelCat1
    /// Quectel BC26/BC20, NB-IoT: the same command names, different results (quectel.md, "BC").
    case quectelNB
    /// SIMCom SIM7028, NB-IoT: `AT+NETOPEN/CIPOPEN/CIPSEND/CIPRXGET` (simcom-sim7028.md).
    case simcom7028
    /// China Mobile OneMO ML30x Cat-1: `AT+MIPOPEN/MIPSEND/MIPRD` (onemo.md).
    case oneMOCat1
    /// China Mobile OneMO MN316 NB-IoT: the MIP commands with the NB footnotes (onemo.md §10).
    case oneMONB
}

/// Per-model limits and identity, straight from the manuals' tables and footnotes.
public struct ModelProfile: Sendable {
    /// The name given to `--model` and answered by `AT+CGMM`.
    public var name: String
    public var dialect: DialectKind
    /// `ATI` first line and `AT+CGMI`.
    public var manufacturer: String
    /// `AT+CGMR`.
    public var revision: String
    /// The socket ids the host may use.
    public var socketIDs: ClosedRange<Int>
    /// Largest payload one send command takes.
    public var maxSendLength: Int
    /// Largest chunk one read command returns.
    public var maxReadLength: Int
    /// Per-socket receive buffer: what the module holds before it stops reading the network.
    public var receiveBufferSize: Int
    /// Per-socket send buffer: unsent bytes beyond this make the next send fail.
    public var sendBufferSize: Int
    /// Largest data chunk pushed in one direct-push URC.
    public var maxPushLength: Int
    /// Time from `AT+CFUN=1,1` (or a reboot fault) to `RDY`.
    public var bootDuration: Duration

    /// Every model the emulator knows, in the order `--help` lists them.
    public static let all: [ModelProfile] = [
        // EC §2.4.7: connectID 0-11. §2.4.10: send_length ≤ 1460, Freesize 0-10240 (the send
        // buffer). §2.4.11: read_length ≤ 1500. §2.5.2: currentrecvlength 1-1500. The receive
        // buffer size is not given; 10240 mirrors the send side (inferred).
        ModelProfile(name: "EC600E", dialect: .quectelCat1, manufacturer: "Quectel", revision: "EC600ECNLAR01A01M08",
                     socketIDs: 0...11, maxSendLength: 1460, maxReadLength: 1500, receiveBufferSize: 10240,
                     sendBufferSize: 10240, maxPushLength: 1500, bootDuration: .seconds(2)),
        ModelProfile(name: "EC800E", dialect: .quectelCat1, manufacturer: "Quectel", revision: "EC800ECNLCR01A01M08",
                     socketIDs: 0...11, maxSendLength: 1460, maxReadLength: 1500, receiveBufferSize: 10240,
                     sendBufferSize: 10240, maxPushLength: 1500, bootDuration: .seconds(2)),
        // BC §2.3.1: connectID 0-4. §2.3.4: data mode ≤ 1460 (text). §2.3.5: read ≤ 512.
        // §2.4.3: at most 20 buffer nodes, then "buff full". §2.4 note 4: URC ≤ 1400 bytes.
        ModelProfile(name: "BC26", dialect: .quectelNB, manufacturer: "Quectel", revision: "BC26NBR01A08",
                     socketIDs: 0...4, maxSendLength: 1460, maxReadLength: 512, receiveBufferSize: 20 * 1460,
                     sendBufferSize: 4096, maxPushLength: 1358, bootDuration: .seconds(2)),
        ModelProfile(name: "BC20", dialect: .quectelNB, manufacturer: "Quectel", revision: "BC20NBR01A09",
                     socketIDs: 0...4, maxSendLength: 1460, maxReadLength: 512, receiveBufferSize: 20 * 1460,
                     sendBufferSize: 4096, maxPushLength: 1358, bootDuration: .seconds(2)),
        // simcom-sim7028.md §3: link_num 0-1, CIPSEND 1-1500, one report ≤ 1500.
        ModelProfile(name: "SIM7028", dialect: .simcom7028, manufacturer: "SIMCOM INCORPORATED", revision: "1752B06SIM7028",
                     socketIDs: 0...1, maxSendLength: 1500, maxReadLength: 1500, receiveBufferSize: 8192,
                     sendBufferSize: 4096, maxPushLength: 1500, bootDuration: .seconds(2)),
        // onemo.md §10: ML Cat-1 connect_id 0-5, MIPRD ≤ 4096, TCP rcvbuf 64240.
        ModelProfile(name: "ML307A", dialect: .oneMOCat1, manufacturer: "China Mobile", revision: "ML307A_V1.0",
                     socketIDs: 0...5, maxSendLength: 4096, maxReadLength: 4096, receiveBufferSize: 64240,
                     sendBufferSize: 16384, maxPushLength: 1460, bootDuration: .seconds(2)),
        // onemo.md §10: MN316 connect_id 0-4, MIPRD ≤ 4096, TCP rcvbuf fixed 4096, no prompt mode.
        ModelProfile(name: "MN316", dialect: .oneMONB, manufacturer: "China Mobile", revision: "MN316_V1.0",
                     socketIDs: 0...4, maxSendLength: 1024, maxReadLength: 4096, receiveBufferSize: 4096,
                     sendBufferSize: 4096, maxPushLength: 1024, bootDuration: .seconds(2)),
    ]

    /// The profile called `name` (case-insensitive).
    public static func named(_ name: String) -> ModelProfile? {
        all.first { $0.name.lowercased() == name.lowercased() }
    }
}
