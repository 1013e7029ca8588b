/// What a queued AT command is for: the engine hands it back with the response, so every
/// answer is routed by data, never by "the current socket".
enum DriverOp: Sendable, Equatable {
    case bringUp(BringUpStage)
    case open(ModemSocketID)
    case send(ModemSocketID, Int)
    case read(ModemSocketID, Int)
    case close(ModemSocketID)
    case resolve(String)
    case ping(String)
    case signal
    case registration
    case reconcile
    /// A setting whose failure is tolerated (the name says which, for logs).
    case setting(String)
}

/// The generic steps of bring-up, then the dialect's own (`dialect(i)`).
enum BringUpStage: Sendable, Equatable {
    case sync, echoOff, errorFormat, ati, cgmm, cgmr, cgsn, cpin, cimi
    case cereg, cgreg, creg, ceregReports, csq
    case dialect(Int)

    var step: BringUpStep {
        switch self {
        case .sync: return .sync
        case .echoOff, .errorFormat: return .echoOff
        case .ati, .cgmm, .cgmr, .cgsn, .cimi: return .identify
        case .cpin: return .sim
        case .cereg, .cgreg, .creg, .ceregReports: return .registration
        case .csq: return .signal
        case .dialect: return .dataContext
        }
    }
}

/// What a bring-up stage's answer leads to.
enum BringUpNext: Sendable {
    /// The following stage.
    case next
    case goto(BringUpStage)
    /// The same stage again after `after`, unless the stage has run longer than `within`.
    case retry(after: Duration, within: Duration, failure: BringUpFailure)
    /// Wait for a URC (the dialect calls `resumeBringUp`) at most `timeout`.
    case wait(timeout: Duration, failure: BringUpFailure)
    case fail(BringUpFailure)
    /// The data connection is up with this local IP; `apn` when the modem reported its own.
    case done(localIP: String, apn: String?)
}
