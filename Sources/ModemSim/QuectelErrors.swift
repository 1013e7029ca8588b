/// The TCP/IP error codes of both Quectel manuals (quectel.md §9), answered by
/// `AT+QIGETERROR` and carried in `+QIOPEN`, `+QPING`, `+QIURC: "dnsgip"`.
enum QuectelError: Int {
    case success = 0
    case unknown = 550
    case blocked = 551
    case invalidParameters = 552
    case memory = 553
    case socketCreation = 554
    case notSupported = 555
    case bind = 556
    case listen = 557
    case write = 558
    case read = 559
    case accept = 560
    case pdpOpen = 561
    case pdpClose = 562
    case identityUsed = 563
    case dnsBusy = 564
    case dnsFailed = 565
    case connect = 566
    case closed = 567
    case busy = 568
    case timeout = 569
    case pdpBroken = 570
    case cancelSend = 571
    case notAllowed = 572
    /// EC: 573 Port busy, 574 APN not configured; BC swaps them (quectel.md X10).
    case code573 = 573
    case code574 = 574

    /// `<errcode_description>`, unquoted. The two manuals' examples print lower-case text
    /// that differs from their tables ("dns failed", "invalid parameters"); the examples win,
    /// because they show the wire.
    func description(nbIoT: Bool) -> String {
        switch self {
        case .success: return "operation success"
        case .unknown: return "unknown error"
        case .blocked: return "operation blocked"
        case .invalidParameters: return "invalid parameters"
        case .memory: return "memory not enough"
        case .socketCreation: return "create socket failed"
        case .notSupported: return "operation not supported"
        case .bind: return "socket bind failed"
        case .listen: return "socket listen failed"
        case .write: return "socket write failed"
        case .read: return "socket read failed"
        case .accept: return "socket accept failed"
        case .pdpOpen: return "open pdp context failed"
        case .pdpClose: return "close pdp context failed"
        case .identityUsed: return "socket identity has been used"
        case .dnsBusy: return "dns busy"
        case .dnsFailed: return "dns failed"
        case .connect: return "socket connect failed"
        case .closed: return "socket has been closed"
        case .busy: return "operation busy"
        case .timeout: return "operation timeout"
        case .pdpBroken: return "pdp context broken down"
        case .cancelSend: return "cancel send"
        case .notAllowed: return "operation not allowed"
        case .code573: return nbIoT ? "apn not configured" : "port busy"
        case .code574: return nbIoT ? "port busy" : "apn not configured"
        }
    }
}
