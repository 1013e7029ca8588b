import AT
import Buffers

/// The one `ModemDriver`: the AT engine, the event queue, the generic 3GPP bring-up
/// (sync, echo off, identity, SIM, registration, signal) and, once the model is known, its
/// dialect (`QuectelDialect`, `SIMComDialect`, `OneMODialect`) for everything socket-shaped.
public final class ATModemDriver: ModemDriver {
    private struct BringUpRun {
        var apn: String
        var limits: BringUpLimits
        /// `identify()` runs the identity stages only.
        var identifyOnly: Bool
        var stage: BringUpStage
        var stageStarted: Instant
        var retryAt: Instant?
        var waitUntil: Instant?
        var waitFailure: BringUpFailure?
        var registration: RegistrationState = .unknown
        var signal: SignalQuality?
        var lastAttemptTimedOut = false
        var restarts = 0
        var restartAfterInFlight = false
    }

    public private(set) var model: ModemModel?
    /// The model's capabilities; before an auto-detected model is known, the most permissive
    /// Cat-1 ones (requests need the dialect anyway, which comes with the model).
    public var capabilities: ModemCapabilities {
        (self.model ?? .ec600e).capabilities
    }

    var engine = ATEngine<DriverOp>()
    private var events = OutputQueue<ModemEvent>()
    private var run: BringUpRun?
    private(set) var dialect: (any ModemDialect)?
    public private(set) var identity = ModemIdentity()
    /// True once `.dataConnectionUp` was reported, until loss or reboot.
    public private(set) var isUp = false
    /// Lines nobody recognised (counted, not kept).
    public private(set) var unknownURCs = 0
    /// While up, registration is asked this often: Quectel NB documents no URC for losing
    /// the network, and a modem may not report `+CEREG` changes although `AT+CEREG=1` was
    /// accepted.
    public var healthPollInterval: Duration = .seconds(10)
    private var nextHealthPoll: Instant?

    public init(model: ModemModel?) {
        self.model = model
        if let model { self.dialect = Self.makeDialect(model, driver: self) }
        self.identity.model = model
    }

    private static func makeDialect(_ model: ModemModel, driver: ATModemDriver) -> any ModemDialect {
        switch model.dialect {
        case .quectelCat1, .quectelNB: return QuectelDialect(model: model, driver: driver)
        case .simcom: return SIMComDialect(model: model, driver: driver)
        case .onemo: return OneMODialect(model: model, driver: driver)
        }
    }

    // MARK: I/O

    public var nextDeadline: Instant? {
        var earliest = Earliest()
        earliest.consider(self.engine.nextDeadline)
        earliest.consider(self.run?.retryAt)
        earliest.consider(self.run?.waitUntil)
        earliest.consider(self.dialect?.nextDeadline)
        if self.isUp { earliest.consider(self.nextHealthPoll) }
        return earliest.instant
    }

    public func received(_ bytes: UnsafeRawBufferPointer, now: Instant) {
        self.engine.receive(bytes, now: now, rules: PayloadRules(driver: self))
        self.drainEngine(now: now)
    }

    public func tick(now: Instant) {
        self.engine.tick(now: now)
        self.dialect?.tick(now: now)
        if self.isUp, let at = self.nextHealthPoll, now >= at {
            self.nextHealthPoll = now + self.healthPollInterval
            // Skipped when the queue is full: the next poll comes soon enough.
            try? self.queryRegistration(now: now)
        }
        self.drainEngine(now: now)
        if var r = self.run {
            if let at = r.retryAt, now >= at {
                r.retryAt = nil
                self.run = r
                self.issueStage(r.stage, now: now)
            } else if let until = r.waitUntil, now >= until {
                self.failBringUp(r.waitFailure ?? BringUpFailure(step: r.stage.step, reason: "no answer",
                                                                 hint: "the modem"))
            }
        }
        self.drainEngine(now: now)
    }

    public func nextWrite() -> ATWrite? { self.engine.nextWrite() }

    public func nextEvent() -> ModemEvent? { self.events.popFirst() }

    // MARK: for dialects

    func emit(_ event: ModemEvent) { self.events.append(event) }

    func enqueue(_ command: ATCommand<DriverOp>, now: Instant) throws(ModemError) {
        do {
            try self.engine.enqueue(command, now: now)
        } catch {
            throw ModemError(error)
        }
    }

    /// A dialect that was waiting for a URC during bring-up (`BringUpNext.wait`) got it.
    func resumeBringUp(_ next: BringUpNext, now: Instant) {
        guard var r = self.run, r.waitUntil != nil else { return }
        r.waitUntil = nil
        r.waitFailure = nil
        self.run = r
        self.apply(next, now: now)
    }

    var bringUpInProgress: Bool { self.run != nil }

    // MARK: requests

    private func requireDialect() throws(ModemError) -> any ModemDialect {
        guard let d = self.dialect else { throw .wrongState }
        return d
    }

    public func identify(now: Instant) throws(ModemError) {
        try self.start(apn: "", limits: BringUpLimits(), identifyOnly: true, now: now)
    }

    public func bringUp(apn: String?, limits: BringUpLimits, now: Instant) throws(ModemError) {
        let apn = apn ?? ""
        do { try ATCommandLine.validate(apn, maxLength: 99) } catch { throw .unsafeArgument }
        try self.start(apn: apn, limits: limits, identifyOnly: false, now: now)
    }

    private func start(apn: String, limits: BringUpLimits, identifyOnly: Bool, now: Instant) throws(ModemError) {
        guard self.run == nil else { throw .wrongState }
        self.run = BringUpRun(apn: apn, limits: limits, identifyOnly: identifyOnly, stage: .sync,
                              stageStarted: now)
        self.issueStage(.sync, now: now)
    }

    public func open(_ socket: ModemSocketID, _ proto: SocketProtocol, host: String, port: UInt16,
                     now: Instant) throws(ModemError) {
        try self.checkSocket(socket)
        do { try ATCommandLine.validateHost(host) } catch { throw .unsafeArgument }
        try self.requireDialect().open(socket, proto, host: host, port: port, now: now)
    }

    public func send(_ socket: ModemSocketID, _ bytes: ArraySlice<UInt8>, now: Instant) throws(ModemError) {
        try self.checkSocket(socket)
        guard !bytes.isEmpty else { throw .wrongState }
        try self.requireDialect().send(socket, bytes, now: now)
    }

    public func openDatagramService(_ socket: ModemSocketID, localPort: UInt16, now: Instant) throws(ModemError) {
        try self.checkSocket(socket)
        guard self.capabilities.udpSharedSocket else { throw .unsupported }
        guard localPort != 0 else { throw .invalidArgument }
        try self.requireDialect().openDatagramService(socket, localPort: localPort, now: now)
    }

    public func sendDatagram(_ socket: ModemSocketID, to host: String, port: UInt16, _ bytes: ArraySlice<UInt8>,
                             now: Instant) throws(ModemError) {
        try self.checkSocket(socket)
        guard self.capabilities.udpSharedSocket else { throw .unsupported }
        // A datagram is never split: it goes whole or not at all.
        guard !bytes.isEmpty, bytes.count <= self.capabilities.maxSend, port != 0,
              IPv4Dotted.isValid(host) else { throw .invalidArgument }
        try self.requireDialect().sendDatagram(socket, to: host, port: port, bytes, now: now)
    }

    public func read(_ socket: ModemSocketID, max: Int, now: Instant) throws(ModemError) {
        try self.checkSocket(socket)
        guard max > 0 else { throw .wrongState }
        try self.requireDialect().read(socket, max: min(max, self.capabilities.maxRead), now: now)
    }

    public func close(_ socket: ModemSocketID, now: Instant) throws(ModemError) {
        try self.checkSocket(socket)
        try self.requireDialect().close(socket, now: now)
    }

    public func resolve(_ host: String, now: Instant) throws(ModemError) {
        do { try ATCommandLine.validateHost(host) } catch { throw .unsafeArgument }
        try self.requireDialect().resolve(host, now: now)
    }

    public func ping(_ host: String, count: Int, now: Instant) throws(ModemError) {
        do { try ATCommandLine.validateHost(host) } catch { throw .unsafeArgument }
        try self.requireDialect().ping(host, count: max(1, min(count, 10)), now: now)
    }

    public func querySignal(now: Instant) throws(ModemError) {
        try self.enqueue(ATCommand(ATCommandLine("AT+CSQ"), tag: .signal, timeout: .seconds(5),
                                   infoPrefixes: ["+CSQ:"]), now: now)
    }

    public func queryRegistration(now: Instant) throws(ModemError) {
        try self.enqueue(ATCommand(ATCommandLine("AT+CEREG?"), tag: .registration, timeout: .seconds(5),
                                   infoPrefixes: ["+CEREG:"]), now: now)
    }

    public func reconcile(now: Instant) throws(ModemError) {
        try self.requireDialect().reconcile(now: now)
    }

    private func checkSocket(_ socket: ModemSocketID) throws(ModemError) {
        guard socket.rawValue >= 0, socket.rawValue < self.capabilities.socketCount else { throw .badSocket }
    }

    // MARK: engine output

    private func drainEngine(now: Instant) {
        while let e = self.engine.nextEvent() {
            switch e {
            case .completed(let response):
                if let elapsed = response.elapsed {
                    // The verb only (`AT+QISEND`): short enough to need no heap, and all the
                    // per-command statistics look at.
                    let verb = response.command.prefix { $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: "?") }
                    self.emit(.commandCompleted(command: String(decoding: verb, as: UTF8.self),
                                                elapsed: elapsed, outcome: CommandOutcome(response.result)))
                }
                if case .bringUp(let stage) = response.tag {
                    self.handleBringUp(stage, response, now: now)
                } else {
                    if response.result == .timedOut {
                        self.emit(.commandTimedOut(String(decoding: response.command, as: UTF8.self)))
                    }
                    self.handleGeneric(response, now: now)
                }
            case .urc(let urc):
                self.emit(.urcReceived(kind: ModemEvent.urcKind(of: urc.line)))
                self.handleURC(urc, now: now)
            }
        }
    }

    private func handleGeneric(_ response: ATResponse<DriverOp>, now: Instant) {
        switch response.tag {
        case .signal:
            if let s = Self.parseCSQ(response.info) { self.emit(.signal(s)) }
        case .registration:
            if let r = Self.parseRegistration(response.info, prefix: "+CEREG:") {
                self.emit(.registration(r))
                if !r.isRegistered { self.lost() }
            }
        case .setting:
            break
        default:
            self.dialect?.handle(response, now: now)
        }
    }

    private func handleURC(_ urc: ATInfo, now: Instant) {
        let line = urc.line
        // What modems print when they (re)start: Quectel and SIMCom `RDY`, OneMO
        // `+MATREADY`, others `*ATREADY`; an unasked `+CPIN: READY` also only comes at boot.
        // Either way every socket and setting is gone.
        if urc.payload == nil, Self.isBootBanner(line) {
            self.rebooted(now: now)
            return
        }
        if line.hasPrefix("+CEREG:") || line.hasPrefix("+CGREG:") || line.hasPrefix("+CREG:") {
            var f = ATFields(line)
            var values: [Int] = []
            while let v = f.next() { values.append(ATFields.parseInt(v) ?? -1) }
            // Unsolicited form (AT+CEREG=1): just <stat>.
            if values.count == 1, let r = RegistrationState(rawValue: values[0]) {
                self.emit(.registration(r))
                if self.isUp && !r.isRegistered {
                    self.lost()
                }
                return
            }
        }
        if let d = self.dialect, d.handleURC(urc, now: now) { return }
        self.unknownURCs &+= 1
    }

    static func isBootBanner(_ line: [UInt8]) -> Bool {
        line == Array("RDY".utf8) || line.hasPrefix("*ATREADY") || line.hasPrefix("+MATREADY")
    }

    /// Restarts of the modem that bring-up sits out (starting over) before it gives up.
    static let maxRestartsDuringBringUp = 3

    /// The modem restarted: nothing it was asked will be answered, every socket is gone.
    /// During bring-up that is the modem finishing its boot (or booting again): bring-up
    /// starts over from `AT`. Otherwise the owner hears `.modemRebooted`.
    func rebooted(now: Instant) {
        let wasUp = self.isUp
        self.isUp = false
        self.engine.abandonQueued(.error)
        // Answers of abandoned commands go to their owners as failures, not as data.
        while let e = self.engine.nextEvent() {
            if case .completed(let r) = e, case .bringUp = r.tag { continue }
            if case .completed(let r) = e { self.dialect?.handle(r, now: now) }
        }
        self.dialect?.resetSockets()
        if var r = self.run {
            r.restarts += 1
            guard r.restarts <= Self.maxRestartsDuringBringUp else {
                self.run = nil
                self.emit(.bringUpFailed(BringUpFailure(step: r.stage.step, reason: "the modem keeps restarting",
                                                        hint: "its power supply")))
                return
            }
            r.stage = .sync
            r.stageStarted = now
            r.retryAt = nil
            r.waitUntil = nil
            if self.engine.inFlightTag == nil {
                self.run = r
                self.issueStage(.sync, now: now)
            } else {
                // Start over once the command in flight has its answer or its timeout.
                r.restartAfterInFlight = true
                self.run = r
            }
            if !wasUp { return }
        }
        self.emit(.modemRebooted)
    }

    /// The data connection went away (PDP deactivated, network closed).
    func lost() {
        guard self.isUp else { return }
        self.isUp = false
        self.dialect?.resetSockets()
        self.emit(.networkLost)
    }

    // MARK: bring-up

    private func command(for stage: BringUpStage, _ r: BringUpRun) -> ATCommand<DriverOp>? {
        let quick = min(Duration.seconds(5), r.limits.commandCeiling)
        func cmd(_ line: StaticString, _ prefixes: [String] = [], bare: Bool = false,
                 timeout: Duration? = nil) -> ATCommand<DriverOp> {
            ATCommand(ATCommandLine(line), tag: .bringUp(stage), timeout: timeout ?? quick,
                      infoPrefixes: prefixes, takesBareLines: bare)
        }
        switch stage {
        case .sync: return cmd("AT", timeout: min(.seconds(1), r.limits.commandCeiling))
        case .echoOff: return cmd("ATE0")
        case .errorFormat: return cmd("AT+CMEE=1")
        case .ati: return cmd("ATI", ["+CGMM:"], bare: true)
        case .cgmm: return cmd("AT+CGMM", ["+CGMM:"], bare: true)
        case .cgmr: return cmd("AT+CGMR", ["+CGMR:"], bare: true)
        case .cgsn: return cmd("AT+CGSN", ["+CGSN:"], bare: true)
        case .cpin: return cmd("AT+CPIN?", ["+CPIN:"])
        case .cimi: return cmd("AT+CIMI", ["+CIMI:"], bare: true)
        case .cereg: return cmd("AT+CEREG?", ["+CEREG:"])
        case .cgreg: return cmd("AT+CGREG?", ["+CGREG:"])
        case .creg: return cmd("AT+CREG?", ["+CREG:"])
        case .ceregReports: return cmd("AT+CEREG=1")
        case .csq: return cmd("AT+CSQ", ["+CSQ:"])
        case .dialect(let i):
            return self.dialect?.bringUpCommand(i, apn: r.apn, limits: r.limits)
        }
    }

    private func issueStage(_ stage: BringUpStage, now: Instant) {
        guard var r = self.run else { return }
        if r.stage != stage {
            r.stage = stage
            r.stageStarted = now
        }
        r.retryAt = nil
        r.waitUntil = nil
        self.run = r
        guard let c = self.command(for: stage, r) else {
            // The dialect has no more stages: it reported done through handleBringUp.
            self.failBringUp(BringUpFailure(step: stage.step, reason: "no command for this step",
                                            hint: "the model setting"))
            return
        }
        do {
            try self.enqueue(c, now: now)
        } catch {
            self.failBringUp(BringUpFailure(step: stage.step, reason: "the command queue is full",
                                            hint: "that nothing else is driving the modem"))
        }
    }

    private func failBringUp(_ failure: BringUpFailure) {
        self.run = nil
        self.emit(.bringUpFailed(failure))
    }

    private func apply(_ next: BringUpNext, now: Instant) {
        guard var r = self.run else { return }
        switch next {
        case .next:
            guard let following = self.stage(after: r.stage, r) else {
                self.run = nil
                return
            }
            self.issueStage(following, now: now)
        case .goto(let stage):
            self.issueStage(stage, now: now)
        case .retry(let after, let within, let failure):
            // Fail now if the retry could not finish inside the stage's time: the caller's
            // deadline must see this failure, not its own timeout.
            // A modem that answered will answer the retry quickly; one that timed out may
            // take the whole timeout again.
            let attempt = r.lastAttemptTimedOut ? (self.command(for: r.stage, r)?.timeout ?? .zero) : .zero
            if now + after + attempt > r.stageStarted + within {
                self.failBringUp(failure)
            } else {
                r.retryAt = now + after
                self.run = r
            }
        case .wait(let timeout, let failure):
            r.waitUntil = now + timeout
            r.waitFailure = failure
            self.run = r
        case .fail(let failure):
            self.failBringUp(failure)
        case .done(let ip, let apn):
            self.run = nil
            self.isUp = true
            self.nextHealthPoll = now + self.healthPollInterval
            self.emit(.bringUpProgress(.localIP))
            self.emit(.dataConnectionUp(DataConnection(identity: self.identity, registration: r.registration,
                                                       signal: r.signal, apn: apn ?? r.apn, localIP: ip)))
        }
    }

    private func stage(after stage: BringUpStage, _ r: BringUpRun) -> BringUpStage? {
        switch stage {
        case .sync: return .echoOff
        case .echoOff: return .errorFormat
        case .errorFormat: return .ati
        case .ati, .cgmm: return .cgmr
        case .cgmr: return .cgsn
        case .cgsn: return .cpin
        case .cpin: return .cimi
        case .cimi:
            self.emit(.identified(self.identity))
            return r.identifyOnly ? nil : .cereg
        case .cereg, .cgreg, .creg: return .ceregReports
        case .ceregReports: return .csq
        case .csq: return .dialect(0)
        case .dialect(let i): return .dialect(i + 1)
        }
    }

    private func handleBringUp(_ stage: BringUpStage, _ response: ATResponse<DriverOp>, now: Instant) {
        guard var r = self.run else { return }
        if r.restartAfterInFlight {
            r.restartAfterInFlight = false
            self.run = r
            // The answer to `AT` is what the restart waits for anyway; anything else is stale.
            if stage != .sync {
                self.issueStage(.sync, now: now)
                return
            }
        }
        guard r.stage == stage else { return }
        let result = response.result
        r.lastAttemptTimedOut = result == .timedOut
        self.run = r
        let next: BringUpNext
        switch stage {
        case .sync:
            if result == .ok {
                self.emit(.bringUpProgress(.sync))
                next = .next
            } else {
                next = .retry(after: .milliseconds(200), within: r.limits.sync,
                              failure: BringUpFailure(step: .sync, reason: "the modem does not answer AT",
                                                      hint: "the device path, that the modem is powered, the baud rate and the cable"))
            }
        case .echoOff, .errorFormat, .ceregReports:
            // Tolerated: a modem without CMEE still works; echo is handled either way.
            next = .next
        case .ati, .cgmm:
            let text = response.info.map { Self.stripPrefix($0.text) }.joined(separator: "\n")
            let found = ModemModel.detect(in: text)
            if self.identity.modelText.isEmpty || found != nil {
                self.identity.modelText = Self.modelLine(response.info, found: found)
            }
            if let found, self.model == nil {
                self.model = found
                self.identity.model = found
                self.dialect = Self.makeDialect(found, driver: self)
            }
            self.run = r
            if self.model == nil && stage == .ati {
                next = .goto(.cgmm)
            } else if self.model == nil {
                next = .fail(BringUpFailure(step: .identify, reason: "unknown model '\(self.identity.modelText)'",
                                            hint: "--model (one of \(ModemModel.allCases.map(\.rawValue).joined(separator: ", ")))"))
            } else {
                next = .next
            }
        case .cgmr:
            self.identity.firmware = response.info.first.map { Self.stripPrefix($0.text) } ?? ""
            next = .next
        case .cgsn:
            self.identity.imei = Self.digits(response.info)
            next = .next
        case .cimi:
            // The SIM was checked by CPIN; a modem that will not tell the IMSI still works.
            self.identity.imsi = Self.digits(response.info)
            next = .next
        case .cpin:
            next = Self.simNext(response, within: r.limits.sim)
            if case .next = next { self.emit(.bringUpProgress(.sim)) }
        case .cereg, .cgreg, .creg:
            let prefix = stage == .cereg ? "+CEREG:" : stage == .cgreg ? "+CGREG:" : "+CREG:"
            if result != .ok {
                // An NB or Cat-1 modem answers CEREG; older stacks only CGREG/CREG.
                next = stage == .cereg ? .goto(.cgreg) : stage == .cgreg ? .goto(.creg)
                    : .fail(BringUpFailure(step: .registration, reason: "the modem answers no registration query",
                                           hint: "the model setting"))
            } else if let state = Self.parseRegistration(response.info, prefix: prefix) {
                r.registration = state
                self.run = r
                if state.isRegistered {
                    self.emit(.registration(state))
                    self.emit(.bringUpProgress(.registration))
                    next = .next
                } else if state == .denied {
                    next = .fail(BringUpFailure(step: .registration, reason: "registration denied by the network",
                                                hint: "that the SIM's subscription is active for this network"))
                } else {
                    next = .retry(after: .seconds(1), within: r.limits.registration,
                                  failure: BringUpFailure(step: .registration,
                                                          reason: "not registered (\(state.name))",
                                                          hint: "the antenna, coverage and that the SIM is activated"))
                }
            } else {
                next = .retry(after: .seconds(1), within: r.limits.registration,
                              failure: BringUpFailure(step: .registration, reason: "no registration status",
                                                      hint: "the antenna and coverage"))
            }
        case .csq:
            r.signal = Self.parseCSQ(response.info)
            self.run = r
            if let s = r.signal { self.emit(.signal(s)) }
            self.emit(.bringUpProgress(.signal))
            next = .next
        case .dialect(let i):
            guard let d = self.dialect else { return }
            next = d.handleBringUp(i, response, apn: r.apn, limits: r.limits)
        }
        if result == .timedOut && stage != .sync {
            self.emit(.commandTimedOut(String(decoding: response.command, as: UTF8.self)))
        }
        self.apply(next, now: now)
    }

    // MARK: parsing of the 3GPP answers

    static func simNext(_ response: ATResponse<DriverOp>, within: Duration) -> BringUpNext {
        let text = response.info.first.map { Self.stripPrefix($0.text) } ?? ""
        switch response.result {
        case .ok where text.uppercased().hasPrefix("READY"):
            return .next
        case .ok:
            return .fail(BringUpFailure(step: .sim, reason: "SIM is locked (\(text))",
                                        hint: "the SIM PIN; unlock it with AT+CPIN"))
        case .cmeError(10):
            // TS 27.007 §9.2.1: 10 SIM not inserted.
            return .fail(BringUpFailure(step: .sim, reason: "no SIM card", hint: "that a SIM is inserted"))
        case .cmeError(13):
            return .fail(BringUpFailure(step: .sim, reason: "SIM failure", hint: "the SIM card and its contacts"))
        default:
            // 14 SIM busy, or no answer yet: the SIM is still starting.
            return .retry(after: .seconds(1), within: within,
                          failure: BringUpFailure(step: .sim, reason: "SIM not ready",
                                                  hint: "that a SIM is inserted and not PIN-locked"))
        }
    }

    static func parseCSQ(_ info: [ATInfo]) -> SignalQuality? {
        guard let line = info.first(where: { $0.line.hasPrefix("+CSQ:") })?.line else { return nil }
        var f = ATFields(line)
        guard let rssi = f.int(), let ber = f.int() else { return nil }
        return SignalQuality(rssi: rssi, ber: ber)
    }

    /// `+CEREG: <n>,<stat>[,...]` (the read form always starts with `<n>`).
    static func parseRegistration(_ info: [ATInfo], prefix: String) -> RegistrationState? {
        let p = Array(prefix.utf8)
        guard let line = info.first(where: { $0.line.starts(with: p) })?.line else { return nil }
        var f = ATFields(line)
        _ = f.int()
        guard let stat = f.int() else { return nil }
        return RegistrationState(rawValue: stat) ?? .unknown
    }

    static func stripPrefix(_ text: String) -> String {
        var t = Substring(text)
        if t.hasPrefix("+"), let colon = t.firstIndex(of: ":") { t = t[t.index(after: colon)...] }
        if t.hasPrefix("Revision:") { t = t.dropFirst("Revision:".count) }
        while t.first == " " { t = t.dropFirst() }
        if t.hasPrefix("\"") && t.hasSuffix("\"") && t.count >= 2 { t = t.dropFirst().dropLast() }
        return String(t)
    }

    private static func modelLine(_ info: [ATInfo], found: ModemModel?) -> String {
        let lines = info.map { Self.stripPrefix($0.text) }
        if let found, let l = lines.first(where: { $0.uppercased().contains(found.rawValue) }) { return l }
        return lines.first ?? ""
    }

    /// The digits of the first line that has any (IMEI, IMSI), without quotes or prefix.
    static func digits(_ info: [ATInfo]) -> String {
        for i in info {
            let d = Self.stripPrefix(i.text).filter { $0.isASCII && $0.isNumber }
            if !d.isEmpty { return d }
        }
        return ""
    }
}

/// The payload rules of whichever dialect is current (none before the model is known).
private struct PayloadRules: ATPayloadRules {
    typealias Tag = DriverOp
    unowned let driver: ATModemDriver

    func payloadLength(afterInfo line: [UInt8], of command: ATCommand<DriverOp>) -> Int? {
        self.driver.dialect?.payloadLength(afterInfo: line, of: command)
    }
    func payloadLength(afterURC line: [UInt8]) -> Int? {
        self.driver.dialect?.payloadLength(afterURC: line)
    }
    func inlinePayloadLength(_ partialLine: ArraySlice<UInt8>, inFlight: DriverOp?) -> Int? {
        self.driver.dialect?.inlinePayloadLength(partialLine, inFlight: inFlight)
    }
}
