import Buffers
import Glibc
import Sys

/// `--netns` could not be entered: the namespace is missing or we lack the privilege.
public struct NamespaceUnavailable: Error, CustomStringConvertible {
    public var name: String
    public var reason: String
    public var description: String { "cannot enter network namespace \(name): \(reason)" }
}

/// The write end of the self-pipe that SIGTERM/SIGINT wake the poll loop through.
/// Written only by the signal handler, set once before the handler is installed.
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1

/// The I/O shell of the emulator: a pty for the host, real sockets for the network, a
/// poll loop that moves bytes between them and `SimModem`, the line rate, the faults.
public final class SimRunner {
    let commandLine: SimCommandLine
    let modem: SimModem
    let pty: PtyPort
    let network: RealNetwork
    let control: ControlServer?
    let start: Instant
    private var toHost: [UInt8] = []
    private var hostRate: LineRate
    private var modemRate: LineRate
    private var transcriptFD: Int32 = -1
    private var schedule: [(at: Instant, fault: Fault)] = []
    private var signalPipe: (read: Int32, write: Int32) = (-1, -1)
    /// Above this many bytes waiting for the host, the network is not read (the serial line
    /// is the bottleneck, as on a real module).
    static let hostBacklogLimit = 64 * 1024

    public init(_ commandLine: SimCommandLine) throws {
        self.commandLine = commandLine
        let now = Posix.now()
        self.start = now
        var options = SimOptions()
        options.seed = commandLine.seed
        options.urcDelayRate = commandLine.urcRate
        options.latency = .milliseconds(commandLine.latencyMilliseconds)
        options.wallClock = Int64(time(nil))
        var hosts = HostsTable()
        if let file = commandLine.hostsFile {
            guard let text = Self.readFile(file) else { throw SystemError(call: "open \(file)", errno: errno) }
            hosts = HostsTable(parsing: text)
        }
        if let name = commandLine.netns {
            // Before any socket exists: every socket of this (single) thread is opened there.
            let path = name.contains("/") ? name : "/run/netns/" + name
            do { try NetworkNamespace.enter(path: path) } catch { throw NamespaceUnavailable(name: name, reason: "\(error)") }
        }
        self.pty = try PtyPort()
        if let link = commandLine.link { try pty.link(link) }
        self.network = RealNetwork(resolver: Resolver(hosts: hosts))
        self.control = try commandLine.control.map { path throws(SystemError) in try ControlServer(path: path) }
        self.hostRate = LineRate(baud: commandLine.baud, now: now)
        self.modemRate = LineRate(baud: commandLine.baud, now: now)
        if let file = commandLine.transcript {
            transcriptFD = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard transcriptFD >= 0 else { throw SystemError(call: "open \(file)", errno: errno) }
        }
        for f in commandLine.faults {
            schedule.append((now + f.at, f.fault))
            if let end = f.end { schedule.append((now + f.at + end.after, end.fault)) }
        }
        schedule.sort { $0.at < $1.at }
        self.modem = SimModem(profile: commandLine.model, options: options, now: now)
    }

    private static func readFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The slave path to announce.
    public var ptyPath: String { pty.path }

    /// Serves until SIGTERM or SIGINT; then closes every socket and removes the link.
    public func run() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SystemError(call: "pipe", errno: errno) }
        signalPipe = (fds[0], fds[1])
        Posix.setNonBlocking(fds[0])
        Posix.setNonBlocking(fds[1])
        signalPipeWriteEnd = fds[1]
        signal(SIGPIPE, SIG_IGN)
        let handler: @convention(c) (Int32) -> Void = { _ in
            var b: UInt8 = 1
            _ = write(signalPipeWriteEnd, &b, 1)
        }
        signal(SIGTERM, handler)
        signal(SIGINT, handler)
        // A parent may have started us with these blocked (a test runner's thread mask is
        // inherited across exec); then SIGTERM would never end the emulator.
        var wanted = sigset_t()
        sigemptyset(&wanted)
        sigaddset(&wanted, SIGTERM)
        sigaddset(&wanted, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &wanted, nil)
        defer { shutdown() }
        if commandLine.exitWithParent {
            // With the SIGTERM handler in place, the parent's death ends this loop as a
            // SIGTERM does. An emulator whose daemon was killed would otherwise hold its pty
            // and sockets for good.
            do {
                guard try ParentDeath.terminateWithParent() else { return }   // orphaned already
            } catch {
                throw SystemError(call: "prctl(PR_SET_PDEATHSIG)", errno: errno)
            }
        }

        while true {
            let now = Posix.now()
            step(now: now)
            var polls: [pollfd] = []
            var roles: [Role] = []
            func add(_ fd: Int32, _ events: Int16, _ role: Role) {
                polls.append(pollfd(fd: fd, events: events, revents: 0))
                roles.append(role)
            }
            add(signalPipe.read, Int16(POLLIN), .signal)
            var ptyEvents = Int16(0)
            if hostRate.available(now: now) > 0 { ptyEvents |= Int16(POLLIN) }
            if !toHost.isEmpty && modemRate.available(now: now) > 0 { ptyEvents |= Int16(POLLOUT) }
            if ptyEvents != 0 { add(pty.master, ptyEvents, .pty) }
            let mayRead = toHost.count + modem.pendingOutputCount < Self.hostBacklogLimit
            for (p, serial) in network.pollDescriptors(modem: modem, mayRead: mayRead) { add(p.fd, p.events, .socket(serial)) }
            if let fd = network.pinger.descriptor { add(fd, Int16(POLLIN), .ping) }
            for fd in network.ntp.descriptors { add(fd, Int16(POLLIN), .ping) }
            for fd in control?.descriptors ?? [] { add(fd, Int16(POLLIN), .control(fd)) }

            var deadlines: [Instant] = []
            if let d = modem.nextDeadline { deadlines.append(d) }
            if let d = schedule.first?.at { deadlines.append(d) }
            if let d = network.pinger.nextDeadline { deadlines.append(d) }
            if let d = network.ntp.nextDeadline { deadlines.append(d) }
            if let d = hostRate.nextByteTime(now: now) { deadlines.append(d) }
            if !toHost.isEmpty, let d = modemRate.nextByteTime(now: now) { deadlines.append(d) }
            var timeout: Int32 = 1000
            if let next = deadlines.min() {
                let ms = (next - now).nanoseconds / 1_000_000
                timeout = Int32(max(0, min(1000, ms + (next > now ? 1 : 0))))
                if next > now && timeout == 0 { timeout = 1 }
            }
            let n = poll(&polls, nfds_t(polls.count), timeout)
            if n < 0 && errno != EINTR { throw SystemError(call: "poll", errno: errno) }
            let later = Posix.now()
            for (p, role) in zip(polls, roles) where p.revents != 0 {
                switch role {
                case .signal:
                    return
                case .pty:
                    if p.revents & Int16(POLLIN) != 0 {
                        let bytes = pty.read(max: hostRate.available(now: later))
                        if !bytes.isEmpty {
                            hostRate.consume(bytes.count)
                            log(bytes, host: true, now: later)
                            modem.receive(bytes, now: later)
                        }
                    }
                    if p.revents & Int16(POLLOUT) != 0 { writeToHost(now: later) }
                case .socket(let serial):
                    network.ready(serial: serial, revents: p.revents, modem: modem, now: later)
                case .ping:
                    break
                case .control(let fd):
                    for fault in control?.ready(fd) ?? [] { modem.inject(fault, now: later) }
                }
            }
            network.pinger.service(modem: modem, now: later)
            network.ntp.service(modem: modem, now: later)
        }
    }

    private enum Role { case signal, pty, socket(UInt64), ping, control(Int32) }

    /// Time-driven work: faults, modem timers, actions, output.
    private func step(now: Instant) {
        while let first = schedule.first, first.at <= now {
            schedule.removeFirst()
            modem.inject(first.fault, now: now)
        }
        modem.advance(now: now)
        var rounds = 0
        while rounds < 64 {
            let actions = modem.takeActions()
            if actions.isEmpty { break }
            for a in actions { network.perform(a, modem: modem, now: now) }
            rounds += 1
        }
        let out = modem.takeOutput()
        if !out.isEmpty { toHost += out }
        writeToHost(now: now)
    }

    private func writeToHost(now: Instant) {
        guard !toHost.isEmpty else { return }
        let allowed = min(toHost.count, modemRate.available(now: now))
        guard allowed > 0 else { return }
        let n = pty.write(toHost[0..<allowed])
        guard n > 0 else { return }
        modemRate.consume(n)
        log(toHost[0..<n], host: false, now: now)
        toHost.removeFirst(n)
    }

    private func log(_ bytes: some Collection<UInt8>, host: Bool, now: Instant) {
        guard transcriptFD >= 0 else { return }
        Posix.writeAll(transcriptFD, TranscriptFormat.line(at: now - start, host: host, bytes))
    }

    private func shutdown() {
        network.closeAll()
        control?.shutdown()
        if let link = commandLine.link { unlink(link) }
        if transcriptFD >= 0 { close(transcriptFD) }
        close(signalPipe.read)
        close(signalPipe.write)
    }
}
