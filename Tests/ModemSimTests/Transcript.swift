import Buffers
@testable import ModemSim

/// A worked example of a manual in a small line format, replayed against `SimModem`.
///
/// ```
/// # comment                        ignored
/// model EC600E                     the model (first directive)
/// > AT+QIOPEN=1,0,"TCP",...        host sends the line and <CR>
/// >> test1\x1A                     host sends raw bytes (escapes: \r \n \t \\ \xNN)
/// < OK                             modem sends <CR><LF>OK<CR><LF>
/// << test1\r\n                     modem sends these raw bytes
/// ~ recv 0 test1                   the network delivers bytes to socket 0 (escapes as >>)
/// ~ recvfrom 2 10.7.76.34:7687 AAAA    a datagram from that peer
/// ~ accept 1 172.31.242.222:54091  listener 1 accepts a client
/// ~ close 0                        the peer closes socket 0
/// ~ pingreply 61.135.169.125 32 192 255   one echo reply to the last ping
/// ~ advance 5000                   time passes (milliseconds)
/// = sent 0 test1                   the network got exactly these bytes on socket 0 since the last check
/// ```
///
/// Expected modem output between two host/network steps must match exactly, except `{}`,
/// which stands for one value that must vary (an address, a port, a live length): any run
/// of bytes other than `,` `"` CR and LF.
struct Transcript {
    enum Step: Equatable {
        case host([UInt8])
        case expect([UInt8])
        case network([String], raw: [UInt8])
        case checkSent(link: Int, [UInt8])
    }

    var name: String
    var model: String = ""
    var steps: [(line: Int, step: Step)] = []

    static func load(_ text: String, name: String) throws -> Transcript {
        var t = Transcript(name: name)
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(rawLine)
            let n = index + 1
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("model ") { t.model = String(line.dropFirst(6)); continue }
            if line.hasPrefix(">> ") { t.steps.append((n, .host(try unescape(line.dropFirst(3))))); continue }
            if line.hasPrefix("> ") { t.steps.append((n, .host(Array(line.dropFirst(2).utf8) + [0x0D]))); continue }
            if line.hasPrefix("<< ") { t.steps.append((n, .expect(try unescape(line.dropFirst(3))))); continue }
            if line.hasPrefix("< ") { t.steps.append((n, .expect([0x0D, 0x0A] + Array(line.dropFirst(2).utf8) + [0x0D, 0x0A]))); continue }
            if line.hasPrefix("~ ") {
                let words = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                let payloadWords = words.first == "recv" ? 2 : (words.first == "recvfrom" ? 3 : words.count)
                let raw = words.count > payloadWords ? try unescape(words[payloadWords...].joined(separator: " ")[...]) : []
                t.steps.append((n, .network(Array(words.prefix(payloadWords)), raw: raw)))
                continue
            }
            if line.hasPrefix("= sent ") {
                let words = line.dropFirst(7).split(separator: " ", maxSplits: 1).map(String.init)
                guard let link = Int(words[0]) else { throw TranscriptError.bad(n, line) }
                t.steps.append((n, .checkSent(link: link, words.count > 1 ? try unescape(words[1][...]) : [])))
                continue
            }
            throw TranscriptError.bad(n, line)
        }
        return t
    }

    static func unescape(_ s: Substring) throws -> [UInt8] {
        var out: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let c = it.popFirst() {
            guard c == UInt8(ascii: "\\") else { out.append(c); continue }
            guard let e = it.popFirst() else { throw TranscriptError.bad(0, String(s)) }
            switch e {
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "s"): out.append(0x20)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "x"):
                guard it.count >= 2, let v = Hex.decode(it.prefix(2)) else { throw TranscriptError.bad(0, String(s)) }
                out += v
                it = it.dropFirst(2)
            default: throw TranscriptError.bad(0, String(s))
            }
        }
        return out
    }

    /// True when `actual` matches `pattern`, where `{}` matches any run of value bytes.
    static func matches(_ actual: [UInt8], _ pattern: [UInt8]) -> Bool {
        func go(_ a: Int, _ p: Int) -> Bool {
            if p == pattern.count { return a == actual.count }
            if p + 1 < pattern.count, pattern[p] == UInt8(ascii: "{"), pattern[p + 1] == UInt8(ascii: "}") {
                var k = a
                while true {
                    if go(k, p + 2) { return true }
                    guard k < actual.count, ![0x2C, 0x22, 0x0D, 0x0A].contains(actual[k]) else { return false }
                    k += 1
                }
            }
            guard a < actual.count, actual[a] == pattern[p] else { return false }
            return go(a + 1, p + 1)
        }
        return go(0, 0)
    }

    /// Readable bytes for failure messages.
    static func show(_ bytes: [UInt8]) -> String {
        var s = ""
        for b in bytes {
            switch b {
            case 0x0D: s += "\\r"
            case 0x0A: s += "\\n"
            case 0x5C: s += "\\\\"
            case 0x20...0x7E: s += String(UnicodeScalar(b))
            default: s += "\\x" + Hex.encodeString([b])
            }
        }
        return s
    }
}

enum TranscriptError: Error, CustomStringConvertible {
    case bad(Int, String)
    var description: String {
        switch self { case .bad(let n, let l): return "transcript line \(n): cannot read \(l)" }
    }
}
