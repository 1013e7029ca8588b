import Bridge
import Buffers
import Modems
import Sys

/// Drives sends and reads on several sockets at once through a `ModemRunner`, the way the
/// bridge will: one send in flight per socket, busy → retry later with the same bytes,
/// dataReady → read with maxRead, and counts what happened.
final class Traffic {
    let driver: any ModemDriver
    let runner: ModemRunner
    var toSend: [ModemSocketID: [UInt8]] = [:]
    var sent: [ModemSocketID: Int] = [:]
    var received: [ModemSocketID: [UInt8]] = [:]
    /// Datagrams read from datagram service sockets, with the sender the driver named.
    var datagrams: [(socket: ModemSocketID, host: String, port: UInt16, bytes: [UInt8])] = []
    var busyEvents = 0
    var failures: [String] = []
    var peerClosed: Set<ModemSocketID> = []
    var events: [ModemEvent] = []
    /// When false, dataReady is remembered but not acted on (to leave data unread).
    var reading = true

    private var sending: Set<ModemSocketID> = []
    private var readInFlight: Set<ModemSocketID> = []
    private var readyPending: Set<ModemSocketID> = []
    private var retryAt: [ModemSocketID: Instant] = [:]

    init(driver: any ModemDriver, runner: ModemRunner) {
        self.driver = driver
        self.runner = runner
    }

    /// Pumps until `done` or the deadline; false on timeout.
    func run(until deadline: Instant, _ done: () -> Bool) throws -> Bool {
        while !done() {
            if MonotonicClock.now() >= deadline { return false }
            self.kick()
            _ = try self.runner.run(until: min(deadline, MonotonicClock.now() + .milliseconds(20))) { event in
                self.handle(event)
                return false
            }
        }
        return true
    }

    /// Pumps until an event matching `match` arrives; false on timeout.
    func wait(for seconds: Int64, _ match: (ModemEvent) -> Bool) throws -> Bool {
        let deadline = MonotonicClock.now() + .seconds(seconds)
        var found = false
        while !found {
            if MonotonicClock.now() >= deadline { return false }
            self.kick()
            found = try self.runner.run(until: min(deadline, MonotonicClock.now() + .milliseconds(20))) { event in
                self.handle(event)
                return match(event)
            }
        }
        return true
    }

    func handle(_ event: ModemEvent) {
        self.events.append(event)
        switch event {
        case .sendAccepted(let s, let n):
            self.sending.remove(s)
            self.sent[s, default: 0] += n
        case .sendBusy(let s):
            self.sending.remove(s)
            self.busyEvents += 1
            // SEND FAIL: the same bytes again, a little later.
            self.retryAt[s] = MonotonicClock.now() + .milliseconds(10)
        case .sendFailed(let s, let e):
            self.sending.remove(s)
            self.failures.append("send on \(s): \(e)")
        case .dataReady(let s):
            self.readyPending.insert(s)
        case .received(let s, let bytes):
            self.readInFlight.remove(s)
            self.received[s, default: []] += bytes
        case .datagramReceived(let s, let host, let port, let bytes):
            self.readInFlight.remove(s)
            self.datagrams.append((s, host, port, bytes))
        case .closedByPeer(let s), .broken(let s, _):
            self.peerClosed.insert(s)
        case .commandTimedOut(let c):
            self.failures.append("timeout: \(c)")
        default:
            break
        }
        self.kick()
    }

    /// Issues whatever sends and reads can go now.
    func kick() {
        let now = MonotonicClock.now()
        for (s, data) in self.toSend {
            let offset = self.sent[s, default: 0]
            guard offset < data.count, !self.sending.contains(s), !self.peerClosed.contains(s) else { continue }
            if let at = self.retryAt[s], at > now { continue }
            do {
                try self.driver.send(s, data[offset...], now: now)
                self.sending.insert(s)
                self.retryAt[s] = nil
            } catch {
                self.retryAt[s] = now + .milliseconds(5)
            }
        }
        guard self.reading else { return }
        for s in self.readyPending where !self.readInFlight.contains(s) {
            do {
                try self.driver.read(s, max: self.driver.capabilities.maxRead, now: now)
                self.readInFlight.insert(s)
                self.readyPending.remove(s)
            } catch {}
        }
    }

    var allSent: Bool { self.toSend.allSatisfy { self.sent[$0.key, default: 0] >= $0.value.count } }
    var readsIdle: Bool { self.readInFlight.isEmpty && self.readyPending.isEmpty }
}
