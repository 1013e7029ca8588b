import Buffers
@testable import ModemSim

/// A modem, a fake network and a clock, for behaviour tests.
final class ModemHarness {
    let modem: SimModem
    let net = FakeNetwork()
    var now = Instant.zero

    init(_ model: String, urcRate: Double = 0, seed: UInt64 = 1, latency: Duration = .zero) {
        var options = SimOptions()
        options.urcDelayRate = urcRate
        options.seed = seed
        options.latency = latency
        modem = SimModem(profile: ModelProfile.named(model)!, options: options, now: now)
    }

    /// Sends a command line; returns everything the modem wrote.
    @discardableResult
    func send(_ line: String) -> String { raw(Array((line + "\r").utf8)) }

    @discardableResult
    func raw(_ bytes: [UInt8]) -> String {
        now = now + .milliseconds(1)
        modem.receive(bytes, now: now)
        net.serve(modem, now: now)
        return take()
    }

    func take() -> String { String(decoding: modem.takeOutput(), as: UTF8.self) }

    func advance(_ d: Duration) -> String {
        now = now + d
        modem.advance(now: now)
        net.serve(modem, now: now)
        return take()
    }

    func deliver(_ link: Int, _ text: String) -> String {
        guard let s = modem.sockets[link] else { return "<no socket>" }
        now = now + .milliseconds(1)
        modem.handle(.received(s.handle, Array(text.utf8), from: s.remote ?? RemoteEndpoint(host: "10.0.0.1", port: 1)), now: now)
        net.serve(modem, now: now)
        return take()
    }
}
