import AT
import Buffers
import Modems
import Sys

/// `tun2modem run`: the I/O shell around `BridgeCore`. One epoll loop serves the TUN, the
/// serial port, a timerfd (the core's next deadline), a signalfd (SIGTERM/SIGINT stop,
/// SIGHUP reloads), and the emulator child's pidfd and output. Nothing here decides: it
/// reads, hands bytes to the core, and writes what the core gives back.
///
/// The daemon never exits because of the modem: a vanished serial device (or emulator) is
/// reopened with backoff while the core resets the flows it carried.
public final class Daemon {
    private enum Token: UInt64 {
        case tun = 1, serial, timer, signals, emulatorExit, emulatorOutput, stats
    }

    let settings: DaemonSettings
    var log: Log
    let epoll: Epoll
    let timer: TimerFD
    let signals: SignalFD
    let tun: TunPort
    var serial: SerialLink?
    var emulator: EmulatorChild?
    var core: BridgeCore!
    var events = EpollEventBuffer(capacity: 64)
    /// What the stats socket reports (filled from the core when asked).
    var stats: DaemonStats
    var statsServer: StatsServer?
    var life = SystemdLifecycle()

    private var serialWantsWritable = false
    private var armedDeadline: Instant?
    /// The core's answer to `nextDeadline` from the end of the last turn (`timerDue`), when
    /// nothing has run since; `armTimer` uses it once. nil: unknown, ask again.
    private var coreDeadline: Instant??
    private var reopenAt: Instant?
    private var reopenFailures = 0
    private var stopping: Instant?
    private var reloadHook: ((inout Log) -> Void)?

    /// Sets everything up in the order privileges allow: signals, TUN, its addresses and
    /// routes, the serial port (or the emulator's pty), then the drop to `--user`.
    public init(settings: DaemonSettings, log: Log, reload: ((inout Log) -> Void)? = nil) throws(DaemonError) {
        self.settings = settings
        self.log = log
        self.reloadHook = reload
        self.stats = DaemonStats(startedAt: MonotonicClock.now(), baud: settings.baud)
        do {
            self.epoll = try Epoll()
            self.timer = try TimerFD()
            self.signals = try SignalFD(SignalFD.daemonSignals)
        } catch {
            throw DaemonError("cannot set up the event loop: \(error)", fix: "a bug or a very old kernel")
        }
        let device: TunDevice
        do { device = try TunDevice.open(name: settings.tun) } catch { throw DaemonError.tun(error, name: settings.tun) }
        if settings.persist {
            do { try device.setPersistent(true) } catch {
                throw DaemonError("cannot make \(settings.tun) persistent: \(error)", fix: "run as root or drop --persist")
            }
        }
        self.tun = TunPort(device: device, mtu: settings.mtu)
        try InterfaceSetup.configure(name: self.tun.name, mtu: settings.mtu, address: settings.address,
                                     routes: settings.routes)
        log.info("tun", "\(self.tun.name): \(settings.address), MTU \(settings.mtu)"
                 + (settings.routes.isEmpty ? "" : ", routes " + settings.routes.map(\.description).joined(separator: " ")))
        // Listening before the modem: a second daemon fails here, before touching the port.
        do {
            self.statsServer = try StatsServer(path: settings.statsSocket)
        } catch {
            throw DaemonError("cannot listen on \(settings.statsSocket): \(error)",
                              fix: "another tun2modem may be running; or choose --stats-socket PATH")
        }
        // The emulator (without a namespace) starts after the drop, as that user, so the
        // daemon can still stop and restart it; a real port is opened while still root.
        var emulatorAfterDrop = false
        if case .emulator = settings.source, settings.user != nil { emulatorAfterDrop = true }
        if !emulatorAfterDrop { self.serial = try self.openSerial() }
        switch settings.source {
        case .device(let path): self.stats.modem.device = path
        case .emulator(let model, _, _): self.stats.modem.device = "emulator \(model.rawValue)"
        }
        if let user = settings.user {
            do {
                let who = try Privileges.drop(toUser: user)
                log.info("daemon", "running as \(who.name) (uid \(who.uid))")
            } catch {
                throw DaemonError("cannot drop to user \(user): \(error)", fix: "check --user names an existing user")
            }
        }
        if emulatorAfterDrop { self.serial = try self.openSerial() }
        let now = MonotonicClock.now()
        let config = BridgeConfig(apn: settings.apn, mtu: settings.mtu)
        let model = settings.model
        self.core = BridgeCore(config: config, log: log, sink: self.tun, now: now) { makeModemDriver(model: model) }
        do {
            try self.epoll.add(self.tun.rawDescriptor, events: .readable, token: Token.tun.rawValue)
            try self.epoll.add(self.timer.descriptor.rawValue, events: .readable, token: Token.timer.rawValue)
            try self.epoll.add(self.signals.descriptor.rawValue, events: .readable, token: Token.signals.rawValue)
            if let serial = self.serial {
                try self.epoll.add(serial.rawDescriptor, events: .readable, token: Token.serial.rawValue)
            }
            try self.watchEmulator()
            if let server = self.statsServer {
                try self.epoll.add(server.pollDescriptor, events: .readable, token: Token.stats.rawValue)
            }
        } catch {
            throw DaemonError("cannot set up the event loop: \(error)", fix: "a bug")
        }
    }

    /// Opens the modem's serial line: the device, or a fresh emulator's pty.
    private func openSerial() throws(DaemonError) -> SerialLink {
        switch self.settings.source {
        case .device(let path):
            do {
                let fd = try SerialPort.open(path: path, baud: self.settings.baud, rtscts: self.settings.rtscts)
                return SerialLink(port: fd, path: path)
            } catch {
                let fix = error.errno == .noSuchFileOrDirectory
                    ? "is the modem plugged in? list ports with: ls /dev/ttyUSB* /dev/ttyACM*"
                    : "check permissions (group dialout) and that nothing else holds the port"
                throw DaemonError("cannot open \(path): \(error)", fix: fix)
            }
        case .emulator(let model, let netns, let arguments):
            let child = try EmulatorChild.start(model: model, netns: netns, arguments: arguments,
                                                baud: self.settings.baudGiven ? self.settings.baud : nil)
            self.emulator = child
            self.log.info("modem", "emulator \(model.rawValue) started on \(child.ptyPath)"
                          + (netns.map { " in netns \($0)" } ?? ""))
            do {
                let fd = try SerialPort.open(path: child.ptyPath, baud: self.settings.baud, rtscts: false)
                return SerialLink(port: fd, path: child.ptyPath)
            } catch {
                child.stop()
                self.emulator = nil
                throw DaemonError("cannot open the emulator's pty \(child.ptyPath): \(error)", fix: "a bug")
            }
        }
    }

    private func watchEmulator() throws(SysError) {
        guard let e = self.emulator else { return }
        try self.epoll.add(e.exitDescriptor.rawValue, events: .readable, token: Token.emulatorExit.rawValue)
        try self.epoll.add(e.output.rawValue, events: .readable, token: Token.emulatorOutput.rawValue)
    }

    /// Runs until SIGTERM/SIGINT; returns the exit code (0 after a clean stop).
    public func run() -> Int32 {
        let now = MonotonicClock.now()
        self.log.notice("daemon", "tun2modem running on \(self.tun.name)")
        self.core.start(now: now)
        while true {
            self.flushSerial()
            let now = MonotonicClock.now()
            if let since = self.stopping, now - since > .milliseconds(1500) || self.core.socketsInUse == 0 {
                break
            }
            self.armTimer(now: now)
            let count: Int
            do { count = try self.epoll.wait(into: &self.events, timeout: self.stopping == nil ? nil : .milliseconds(100)) } catch {
                self.log.error("daemon", "epoll_wait: \(error)")
                return 70
            }
            for i in 0..<count {
                let (token, events) = self.events[i]
                self.handle(Token(rawValue: token), events)
            }
            self.timerDue()
        }
        self.finish()
        return 0
    }

    private func handle(_ token: Token?, _ events: EpollEvents) {
        let now = MonotonicClock.now()
        switch token {
        case .tun?:
            // Bounded per turn so the serial side gets its share under a flood.
            for _ in 0..<8 {
                let n: Int
                do {
                    n = try self.tun.readBatch(limit: 64) { packets in self.core.receivePackets(packets, now: now) }
                } catch {
                    self.log.error("tun", "read: \(error)")
                    return
                }
                if n == 0 { break }
                self.flushSerial()
            }
        case .serial?:
            guard let serial = self.serial else { return }
            if !events.intersection([.readable, .hangup, .error]).isEmpty {
                do {
                    let open = try serial.readAvailable { bytes in self.core.receiveSerial(bytes, now: now) }
                    if !open { self.serialGone("the line hung up", now: now) }
                } catch {
                    self.serialGone("read: \(error)", now: now)
                }
            }
        case .timer?:
            _ = try? self.timer.readExpirations()
            self.armedDeadline = nil
        case .signals?:
            while case .processed(let info)? = try? self.signals.read() {
                switch info.signal {
                case .terminate, .interrupt:
                    self.beginStop(info.signal, now: now)
                case .hangup:
                    self.log.notice("daemon", "SIGHUP: reloading the config file")
                    self.life.reloading(now: now)
                    self.reloadHook?(&self.log)
                    self.core.setLogThreshold(self.log.threshold)
                    if self.stats.modem.link == .up {
                        self.life.ready(now: now, status: "modem up, \(self.core.connection?.localIP ?? "?"), on \(self.tun.name)")
                    }
                default:
                    break
                }
            }
        case .emulatorExit?:
            let status = self.emulator?.reap()
            self.log.warning("modem", "the emulator exited (\(status.map { "\($0)" } ?? "status unknown"))")
            self.dropEmulator()
            if self.stopping == nil { self.serialGone("the emulator exited", now: now) }
        case .emulatorOutput?:
            for line in self.emulator?.drainOutput() ?? [] { self.log.debug("sim", line) }
        case .stats?:
            _ = self.statsServer?.service(now: now, stats: { self.statsSnapshot(now: now) },
                                          flows: { self.core.flowRows(now: now) })
        case nil:
            break
        }
    }

    /// Runs the core's timers and the serial reopen timer when due.
    private func timerDue() {
        let now = MonotonicClock.now()
        let deadline = self.core.nextDeadline(now: now)
        if let deadline, deadline <= now {
            self.core.tick(now: now)
            self.coreDeadline = nil
        } else {
            // Nothing ran since: armTimer, next, can use this answer instead of asking the
            // core again (it is asked on every turn of the loop, and asks every layer).
            self.coreDeadline = .some(deadline)
        }
        if let at = self.reopenAt, at <= now, self.stopping == nil {
            self.reopenSerial(now: now)
            self.coreDeadline = nil
        }
        if let at = self.life.nextPing, at <= now { _ = self.life.ping(now: now) }
        self.noteModemPhase(now: now)
    }

    private func armTimer(now: Instant) {
        var next = self.coreDeadline ?? self.core.nextDeadline(now: now)
        self.coreDeadline = nil
        if let r = self.reopenAt { next = min(next ?? r, r) }
        if let p = self.life.nextPing { next = min(next ?? p, p) }
        guard next != self.armedDeadline else { return }
        self.armedDeadline = next
        if let next {
            // A deadline already past fires at once (timerfd takes absolute times in the past).
            try? self.timer.schedule(at: max(next, now + .microseconds(1)))
        } else {
            try? self.timer.cancel()
        }
    }

    private func flushSerial() {
        guard let serial = self.serial else {
            // No line: the driver's writes have nowhere to go (the core was told).
            while self.core.nextWrite() != nil {}
            return
        }
        do {
            try serial.flush { self.core.nextWrite() }
        } catch {
            self.serialGone("write: \(error)", now: MonotonicClock.now())
            return
        }
        let want = serial.isBlocked
        if want != self.serialWantsWritable {
            self.serialWantsWritable = want
            try? self.epoll.modify(serial.rawDescriptor, events: want ? [.readable, .writable] : .readable,
                                   token: Token.serial.rawValue)
        }
    }

    // MARK: Serial loss and return

    private func serialGone(_ why: String, now: Instant) {
        self.coreDeadline = nil
        guard let serial = self.serial else { return }
        self.log.warning("serial", "\(serial.path): \(why)")
        try? self.epoll.delete(serial.rawDescriptor)
        self.stats.serialBytesRead &+= UInt64(clamping: serial.bytesRead)
        self.stats.serialBytesWritten &+= UInt64(clamping: serial.bytesWritten)
        self.serial = nil
        self.serialWantsWritable = false
        self.core.serialLost(now: now)
        if case .emulator = self.settings.source, let e = self.emulator {
            e.stop()
            self.dropEmulator()
        }
        self.reopenAt = now + self.backoff()
    }

    private func backoff() -> Duration {
        let steps: [Duration] = [.milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30)]
        return steps[min(self.reopenFailures, steps.count - 1)]
    }

    private func reopenSerial(now: Instant) {
        self.reopenAt = nil
        do {
            let serial = try self.openSerial()
            try? self.epoll.add(serial.rawDescriptor, events: .readable, token: Token.serial.rawValue)
            self.serial = serial
            try? self.watchEmulator()
            self.reopenFailures = 0
            self.core.serialRestored(now: now)
        } catch {
            self.reopenFailures += 1
            let pause = self.backoff()
            if self.reopenFailures <= 3 || self.reopenFailures % 10 == 0 {
                self.log.warning("serial", "reopen failed (\(error.problem)); next try in \(pause)")
            }
            self.reopenAt = now + pause
        }
    }

    private func dropEmulator() {
        guard let e = self.emulator else { return }
        try? self.epoll.delete(e.exitDescriptor.rawValue)
        try? self.epoll.delete(e.output.rawValue)
        self.emulator = nil
    }

    // MARK: Stop

    private func beginStop(_ signal: Signal, now: Instant) {
        guard self.stopping == nil else { return }
        self.log.notice("daemon", "\(signal): stopping; resetting \(self.core.flowCount) flow(s), closing modem sockets")
        self.stopping = now
        self.life.stopping()
        self.core.shutdown(now: now)
    }

    private func finish() {
        self.flushSerial()
        if let e = self.emulator {
            e.stop()
            self.dropEmulator()
        }
        if self.settings.persist {
            self.log.info("tun", "\(self.tun.name) stays configured (--persist)")
        } else {
            for problem in InterfaceSetup.remove(name: self.tun.name, address: self.settings.address,
                                                 routes: self.settings.routes) {
                self.log.debug("tun", "cleanup: \(problem)")
            }
        }
        self.log.notice("daemon", "stopped")
    }
}
