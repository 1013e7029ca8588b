import Buffers
import Foundation
import Testing
@testable import ModemSim

/// Replays every worked example copied from the manuals (Transcripts/*.txt) against the
/// sans-I/O modem and a fake network, comparing the bytes of every response.
@Suite struct TranscriptReplayTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Transcripts")

    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".txt") }.sorted()
    }

    @Test func transcriptsArePresent() {
        #expect(Self.files.count >= 8, "found \(Self.files)")
    }

    @Test(arguments: files)
    func replay(_ file: String) throws {
        let text = try String(contentsOf: Self.directory.appendingPathComponent(file), encoding: .utf8)
        let transcript = try Transcript.load(text, name: file)
        let failures = try TranscriptPlayer.play(transcript)
        #expect(failures.isEmpty, "\(file):\n\(failures.joined(separator: "\n"))")
    }

    @Test func wildcardMatchesOnlyOneValue() {
        #expect(Transcript.matches(Array("+QIRD: 14,\"1.2.3.4\"".utf8), Array("+QIRD: {},\"{}\"".utf8)))
        #expect(!Transcript.matches(Array("+QIRD: 14,15".utf8), Array("+QIRD: {}".utf8)))
        #expect(!Transcript.matches(Array("OK\r\n".utf8), Array("OK".utf8)))
    }
}

enum TranscriptPlayer {
    /// Runs the transcript; returns one message per mismatch (empty when it all matched).
    static func play(_ t: Transcript) throws -> [String] {
        guard let profile = ModelProfile.named(t.model) else { return ["unknown model \(t.model)"] }
        var options = SimOptions()
        options.urcDelayRate = 0
        var now = Instant.zero
        let modem = SimModem(profile: profile, options: options, now: now)
        let net = FakeNetwork()
        _ = modem.takeOutput()
        var failures: [String] = []
        var expected: [UInt8] = []
        var expectLine = 0

        func verify(_ line: Int) {
            let actual = modem.takeOutput()
            if !Transcript.matches(actual, expected) {
                failures.append("before line \(line) (expected from line \(expectLine)):\n  want \(Transcript.show(expected))\n  got  \(Transcript.show(actual))")
            }
            expected = []
        }

        for (line, step) in t.steps {
            if case .expect(let bytes) = step {
                if expected.isEmpty { expectLine = line }
                expected += bytes
                continue
            }
            verify(line)
            now = now + .milliseconds(1)
            switch step {
            case .expect:
                break
            case .host(let bytes):
                modem.receive(bytes, now: now)
            case .checkSent(let link, let bytes):
                let got = net.sent[link] ?? []
                if got != bytes { failures.append("line \(line): network got \(Transcript.show(got)) on \(link)") }
                net.sent[link] = nil
            case .network(let words, let raw):
                if let problem = network(words, raw, modem, net, &now) { failures.append("line \(line): \(problem)") }
            }
            net.serve(modem, now: now)
        }
        verify(t.steps.last.map { $0.line + 1 } ?? 0)
        return failures
    }

    private static func endpoint(_ s: String) -> RemoteEndpoint? {
        let parts = s.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { return nil }
        return RemoteEndpoint(host: String(parts[0]), port: port)
    }

    private static func network(_ w: [String], _ raw: [UInt8], _ modem: SimModem, _ net: FakeNetwork,
                                _ now: inout Instant) -> String? {
        func socket(_ s: String) -> SimSocket? { Int(s).flatMap { modem.sockets[$0] } }
        switch w.first {
        case "recv":
            guard w.count == 2, let s = socket(w[1]) else { return "no socket \(w)" }
            modem.handle(.received(s.handle, raw, from: s.remote ?? RemoteEndpoint(host: "10.0.0.1", port: 1)), now: now)
        case "recvfrom":
            guard w.count == 3, let s = socket(w[1]), let from = endpoint(w[2]) else { return "bad \(w)" }
            modem.handle(.received(s.handle, raw, from: from), now: now)
        case "accept":
            guard w.count == 3, let s = socket(w[1]), let from = endpoint(w[2]) else { return "bad \(w)" }
            let client = SocketHandle(linkID: -1, serial: modem.allocateSerial())
            modem.handle(.accepted(listener: s.handle, client: client, from: from, localPort: s.localPort), now: now)
        case "close":
            guard w.count == 2, let s = socket(w[1]) else { return "no socket \(w)" }
            modem.handle(.closed(s.handle), now: now)
        case "pingreply":
            guard w.count == 5, let q = net.lastPing?.query, let bytes = Int(w[2]), let ms = Int(w[3]), let ttl = Int(w[4]) else { return "bad \(w)" }
            modem.handle(.pingReply(query: q, address: w[1], bytes: bytes, milliseconds: ms, ttl: ttl), now: now)
        case "pingtimeout":
            guard let q = net.lastPing?.query else { return "no ping" }
            modem.handle(.pingTimeout(query: q, address: w.count > 1 ? w[1] : nil), now: now)
        case "refuse":
            guard w.count == 2 else { return "bad \(w)" }
            net.refusedHosts.insert(w[1])
        case "holdsends":
            net.acceptSends = false
        case "advance":
            guard w.count == 2, let ms = Int64(w[1]) else { return "bad \(w)" }
            now = now + .milliseconds(ms)
            modem.advance(now: now)
        case "fault":
            switch w.dropFirst().first {
            case "reboot": modem.inject(.reboot, now: now)
            case "netloss": modem.inject(.networkLoss, now: now)
            case "sendfull": modem.inject(.sendBufferFull(true), now: now)
            default: return "bad fault \(w)"
            }
        default:
            return "unknown network step \(w)"
        }
        return nil
    }
}
