import Foundation
import Testing
import Buffers
import Sys
@testable import Bridge

/// Figures shared by the stats tests: a daemon state with every table used.
enum StatsFixture {
    static let start = Instant(nanoseconds: 1_000_000_000)

    static func stats() -> DaemonStats {
        var s = DaemonStats(startedAt: start, baud: 115_200)
        s.tunPacketsIn = 10; s.tunBytesIn = 1_040
        s.tunPacketsOut = 12; s.tunBytesOut = 4_096
        s.modemBytesSent = 600; s.modemBytesReceived = 3_000
        s.serialBytesWritten = 11_520; s.serialBytesRead = 5_760
        s.at.sent(command: "AT+QISEND=0,600")
        s.at.completed(command: "AT+QISEND=0,600", latency: .milliseconds(12), outcome: .ok)
        s.at.sent(command: "AT+CSQ")
        s.at.completed(command: "AT+CSQ", latency: .seconds(300), outcome: .timeout)
        s.urcs.record("recv", 3)
        s.urcs.record("closed")
        s.sendFail = 2; s.sendRetries = 2
        s.drops.record(DropReason.badChecksum)
        s.drops.record(.noSocket)
        s.drops.record(.noSocket)
        s.flowsOpened.record(.tcp, 4)
        s.flowsOpened.record(.udp)
        s.flowCloses.record("finished", 3)
        s.admissionQueueLength = 1; s.admissionWaits = 2
        s.modemSockets.configure(count: 4)
        s.modemSockets.setInUse(1, true)
        s.modemSockets.setInUse(3, true)
        s.sharedUDPSessions = 5; s.sharedUDPCollisions = 1
        s.dnsQueries = 5; s.dnsCacheHits = 2; s.dnsFailures = 1
        s.icmpEchoRequests = 3; s.icmpEchoReplies = 3
        s.modem.setLink(.up, at: start + .seconds(2))
        s.modem.model = "EC600E"; s.modem.firmware = "EC600ECNLAR01A01M16"; s.modem.imei = "866123456789012"
        s.modem.registration = "home"; s.modem.signalDBm = -67; s.modem.ip = "10.7.157.1"; s.modem.apn = "cmnet"
        s.modem.interface = "tun2modem0"; s.modem.mtu = 1500; s.modem.device = "/dev/ttyUSB2"
        s.modem.recordError("QIOPEN 1: 566 (socket open failed)", at: start + .seconds(5))
        return s
    }

    static func flows() -> [FlowRow] {
        [
            FlowRow(proto: .tcp, app: "10.0.0.2:43512", remote: "192.0.2.1:80", modemSocket: 1, state: "ESTABLISHED",
                    bytesFromApp: 600, bytesToApp: 3_000, openedAt: start + .seconds(3)),
            FlowRow(proto: .tcp, app: "10.0.0.2:43514", remote: "192.0.2.1:443", modemSocket: nil, state: "AWAITING-MODEM",
                    bytesFromApp: 0, bytesToApp: 0, openedAt: start + .seconds(9)),
            FlowRow(proto: .udp, app: "[fd00::2]:5353", remote: "[2001:db8::1]:53", modemSocket: 3, state: "open",
                    bytesFromApp: 40, bytesToApp: 0, openedAt: start + .seconds(8)),
        ]
    }

    /// Ten seconds after start.
    static let now = start + .seconds(10)
}

/// A strict reader of the Prometheus text exposition format 0.0.4, as a scraper would
/// apply it: HELP and TYPE once per family and before its samples, samples only of
/// declared families (with `_bucket`/`_sum`/`_count` for histograms), valid names, quoted
/// and escaped label values, numbers Prometheus accepts, histogram buckets cumulative and
/// ending in `+Inf` equal to `_count`.
struct PrometheusText {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var types: [String: String] = [:]
    var samples: [Sample] = []

    struct Invalid: Error, CustomStringConvertible {
        let line: Int
        let reason: String
        var description: String { "line \(line): \(reason)" }
    }

    static func parse(_ text: String) throws -> PrometheusText {
        var result = PrometheusText()
        var helped: Set<String> = []
        var sampled: Set<String> = []
        guard text.hasSuffix("\n") else { throw Invalid(line: 0, reason: "no final newline") }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        for (index, rawLine) in lines.enumerated() {
            let n = index + 1
            let line = String(rawLine)
            if line.isEmpty { throw Invalid(line: n, reason: "empty line") }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
                if parts.count >= 3 && parts[1] == "HELP" {
                    guard isName(parts[2]), !helped.contains(parts[2]), !sampled.contains(parts[2]) else {
                        throw Invalid(line: n, reason: "HELP repeated or after samples: \(parts[2])")
                    }
                    helped.insert(parts[2])
                } else if parts.count == 4 && parts[1] == "TYPE" {
                    guard isName(parts[2]), result.types[parts[2]] == nil, !sampled.contains(parts[2]) else {
                        throw Invalid(line: n, reason: "TYPE repeated or after samples: \(parts[2])")
                    }
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                        throw Invalid(line: n, reason: "unknown type \(parts[3])")
                    }
                    result.types[parts[2]] = parts[3]
                }
                continue
            }
            let sample = try parseSample(line, n)
            let family = result.family(of: sample.name)
            guard let family else { throw Invalid(line: n, reason: "sample of undeclared family: \(sample.name)") }
            sampled.insert(family)
            result.samples.append(sample)
        }
        try result.checkHistograms()
        return result
    }

    func family(of name: String) -> String? {
        if types[name] != nil { return name }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if types[base] == "histogram" { return base }
        }
        return nil
    }

    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    func checkHistograms() throws {
        for (name, type) in types where type == "histogram" {
            let buckets = samples.filter { $0.name == name + "_bucket" }
            var series: [[String: String]: [(String, Double)]] = [:]
            for b in buckets {
                var rest = b.labels
                guard let le = rest.removeValue(forKey: "le") else { throw Invalid(line: 0, reason: "bucket without le") }
                series[rest, default: []].append((le, b.value))
            }
            for (labels, list) in series {
                guard list.last?.0 == "+Inf" else { throw Invalid(line: 0, reason: "\(name) does not end in +Inf") }
                guard zip(list, list.dropFirst()).allSatisfy({ $0.1 <= $1.1 }) else { throw Invalid(line: 0, reason: "\(name) not cumulative") }
                guard value(name + "_count", labels) == list.last?.1 else { throw Invalid(line: 0, reason: "\(name)_count != +Inf bucket") }
                guard value(name + "_sum", labels) != nil else { throw Invalid(line: 0, reason: "\(name)_sum missing") }
            }
        }
    }

    static func isName(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, !("0"..."9").contains(f) else { return false }
        return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == ":" }
    }

    static func parseSample(_ line: String, _ n: Int) throws -> Sample {
        let chars = Array(line.unicodeScalars)
        var i = 0
        var name = ""
        while i < chars.count, chars[i] != "{", chars[i] != " " { name.unicodeScalars.append(chars[i]); i += 1 }
        guard isName(name) else { throw Invalid(line: n, reason: "bad metric name '\(name)'") }
        var labels: [String: String] = [:]
        if i < chars.count, chars[i] == "{" {
            i += 1
            while true {
                guard i < chars.count else { throw Invalid(line: n, reason: "unterminated labels") }
                if chars[i] == "}" { i += 1; break }
                var key = ""
                while i < chars.count, chars[i] != "=" { key.unicodeScalars.append(chars[i]); i += 1 }
                guard isName(key), !key.contains(":"), labels[key] == nil else { throw Invalid(line: n, reason: "bad label name '\(key)'") }
                i += 1
                guard i < chars.count, chars[i] == "\"" else { throw Invalid(line: n, reason: "label value not quoted") }
                i += 1
                var value = ""
                while true {
                    guard i < chars.count else { throw Invalid(line: n, reason: "unterminated label value") }
                    let c = chars[i]
                    if c == "\"" { i += 1; break }
                    if c == "\\" {
                        guard i + 1 < chars.count else { throw Invalid(line: n, reason: "dangling escape") }
                        switch chars[i + 1] {
                        case "\\": value += "\\"
                        case "\"": value += "\""
                        case "n": value += "\n"
                        default: throw Invalid(line: n, reason: "bad escape in label value")
                        }
                        i += 2
                        continue
                    }
                    value.unicodeScalars.append(c)
                    i += 1
                }
                labels[key] = value
                if i < chars.count, chars[i] == "," { i += 1 }
            }
        }
        guard i < chars.count, chars[i] == " " else { throw Invalid(line: n, reason: "no space before the value") }
        let rest = String(String.UnicodeScalarView(chars[(i + 1)...]))
        let fields = rest.split(separator: " ")
        guard fields.count == 1 || fields.count == 2 else { throw Invalid(line: n, reason: "bad value/timestamp") }
        let text = String(fields[0])
        let value: Double
        switch text {
        case "+Inf": value = .infinity
        case "-Inf": value = -.infinity
        case "NaN": value = .nan
        default:
            guard let v = Double(text), text.allSatisfy({ "0123456789.eE+-".contains($0) }) else {
                throw Invalid(line: n, reason: "bad value '\(text)'")
            }
            value = v
        }
        return Sample(name: name, labels: labels, value: value)
    }
}

/// Runs the stats server on the test's thread until `done` or the deadline, the way the
/// daemon's loop would: wait on its descriptor, call `service`.
func serve(_ server: StatsServer, stats: DaemonStats, flows: [FlowRow], for limit: Duration = .seconds(20),
           until done: () -> Bool) -> Bool {
    let deadline = MonotonicClock.now() + limit
    while MonotonicClock.now() < deadline {
        if done() { return true }
        var requests = [PollRequest(fd: server.pollDescriptor, events: .readable)]
        _ = try? Poll.wait(&requests, timeout: .milliseconds(20))
        server.service(now: MonotonicClock.now(), stats: { stats }, flows: { flows })
    }
    return done()
}

/// A fresh socket path in one shared directory (the server creates it the first time and
/// removes its socket file when it goes away, so runs leave nothing but that directory).
func temporarySocketPath(_ tag: String) -> String {
    "/tmp/t2m-stats-tests/\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
}

/// The built executable `name`, next to the test binary.
func builtExecutable(_ name: String) -> String {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    // The xctest bundle on Linux is a plain file in .build/debug; be lenient about nesting.
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent(name).path
}

/// Runs a program to completion, returning status, stdout and stderr.
func runProgram(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = arguments
    if let environment { p.environment = environment }
    let out = Foundation.Pipe(), err = Foundation.Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
