import Testing
@testable import AT

/// A modem byte stream and the frames it must cut into, with the header lines after which the
/// reader switches to a counted payload (what the engine does from the dialect's rules).
struct FramerCase: CustomStringConvertible, Sendable {
    var name: String
    var bytes: [UInt8]
    var frames: [ATFrame]
    /// Lines that announce a payload of this many bytes on the next line.
    var payloadAfter: [String: Int] = [:]
    /// Inline headers (prefix of a line up to its comma) that announce this many bytes.
    var inlineAfter: [String: Int] = [:]
    var promptExpected = false

    var description: String { self.name }
}

func b(_ s: String) -> [UInt8] { Array(s.utf8) }
func line(_ s: String) -> ATFrame { .line(b(s)) }

/// Feeds `bytes` in chunks of `chunk` bytes, switching modes as the engine would.
func cut(_ c: FramerCase, chunk: Int, framer: inout ATFramer) -> [ATFrame] {
    var frames: [ATFrame] = []
    if c.promptExpected { framer.expectPrompt() }
    var start = 0
    while start < c.bytes.count {
        let end = min(start + chunk, c.bytes.count)
        let piece = c.bytes[start..<end]
        var index = piece.startIndex
        while let f = framer.next(piece, index: &index, inline: { partial in
            c.inlineAfter[String(decoding: partial, as: UTF8.self)]
        }) {
            frames.append(f)
            if case .line(let l) = f, let n = c.payloadAfter[String(decoding: l, as: UTF8.self)] {
                try? framer.expectPayload(n)
            }
        }
        start = end
    }
    return frames
}

/// Payloads that a line-based parser would misread.
let hostilePayload: [UInt8] = b("ab\r\nOK\r\nSEND OK\r\n+QIURC: \"recv\",0\r\n") + [0x1A, 0x1B, 0x03, 0x00, 0x0D] + b(">")

let framerCases: [FramerCase] = [
    FramerCase(name: "EC QIRD with data (EC §3.2.3)",
               bytes: b("\r\n+QIRD: 4\r\ntest\r\n\r\nOK\r\n"),
               frames: [line("+QIRD: 4"), .payload(b("test")), line("OK")],
               payloadAfter: ["+QIRD: 4": 4]),
    FramerCase(name: "payload holding OK, SEND OK, a URC and control bytes",
               bytes: b("\r\n+QIRD: \(hostilePayload.count)\r\n") + hostilePayload + b("\r\nOK\r\n"),
               frames: [line("+QIRD: \(hostilePayload.count)"), .payload(hostilePayload), line("OK")],
               payloadAfter: ["+QIRD: \(hostilePayload.count)": hostilePayload.count]),
    FramerCase(name: "payload starting with LF after a CR LF header",
               bytes: b("+QIRD: 3\r\n\n\nx\r\nOK\r\n"),
               frames: [line("+QIRD: 3"), .payload(b("\n\nx")), line("OK")],
               payloadAfter: ["+QIRD: 3": 3]),
    FramerCase(name: "SIMCom +IPD direct push",
               bytes: b("\r\nRECV FROM:1.2.3.4:5\r\n+IPD6\r\n") + hostilePayload.prefix(6) + b("\r\n+CIPRXGET: 1,0\r\n"),
               frames: [line("RECV FROM:1.2.3.4:5"), line("+IPD6"), .payload(Array(hostilePayload.prefix(6))),
                        line("+CIPRXGET: 1,0")],
               payloadAfter: ["+IPD6": 6]),
    FramerCase(name: "prompt then SEND OK (EC §3.2.2)",
               bytes: b("\r\n> \r\nSEND OK\r\n"),
               frames: [.prompt, line("SEND OK")], promptExpected: true),
    FramerCase(name: "prompt without CR LF, ERROR instead of a prompt is a line",
               bytes: b(">\r\nSEND FAIL\r\n"),
               frames: [.prompt, line("SEND FAIL")], promptExpected: true),
    FramerCase(name: "> is ordinary text outside prompt mode",
               bytes: b("\r\n>x\r\n"),
               frames: [line(">x")]),
    FramerCase(name: "OneMO inline data with CR LF and commas inside",
               bytes: b("\r\n+MIPURC: \"rtcp\",0,10,a,b\r\n\r\nOK!\r\n+MIPURC: \"disconn\",0,1\r\n"),
               frames: [.inlineHeader(b("+MIPURC: \"rtcp\",0,10,")), .payload(b("a,b\r\n\r\nOK!")),
                        line("+MIPURC: \"disconn\",0,1")],
               inlineAfter: ["+MIPURC: \"rtcp\",0,10,": 10]),
    FramerCase(name: "OneMO MIPRD inline then OK",
               bytes: b("\r\n+MIPRD: 0,10,4,\r\n\r\n\r\nOK\r\n"),
               frames: [.inlineHeader(b("+MIPRD: 0,10,4,")), .payload(b("\r\n\r\n")), line("OK")],
               inlineAfter: ["+MIPRD: 0,10,4,": 4]),
    FramerCase(name: "bare CR and bare LF line ends, empty lines dropped",
               bytes: b("\rOK\r\r\n\nERROR\n+CME ERROR: 10\r"),
               frames: [line("OK"), line("ERROR"), line("+CME ERROR: 10")]),
]

@Suite struct FramerTests {
    @Test(arguments: framerCases)
    func everyChunkSize(_ c: FramerCase) {
        for chunk in 1...max(1, c.bytes.count) {
            var framer = ATFramer()
            let frames = cut(c, chunk: chunk, framer: &framer)
            #expect(frames == c.frames, "chunk size \(chunk)")
            #expect(!framer.isMidFrame, "chunk size \(chunk): bytes left over")
        }
    }

    /// A URC can arrive between any two lines of a response (never inside a counted payload,
    /// which the modem writes in one piece with its header). Insert one at every line boundary
    /// (every byte position just after a line's CR LF, or before the first byte) and feed the
    /// result at several chunk sizes.
    @Test(arguments: framerCases.filter { !$0.promptExpected })
    func urcAtEveryLineBoundary(_ c: FramerCase) {
        let urc = b("\r\n+QIURC: \"recv\",3\r\n")
        // Frame once byte by byte and note, after each byte, how many frames were complete
        // and whether the framer stands between lines (not in a line, payload or discard).
        var framer = ATFramer()
        if c.promptExpected { framer.expectPrompt() }
        var boundaries: [(at: Int, framesBefore: Int)] = [(0, 0)]
        var count = 0
        var inPayload = false
        for (i, byte) in c.bytes.enumerated() {
            var index = 0
            let one = [byte]
            while let f = framer.next(one, index: &index, inline: { c.inlineAfter[String(decoding: $0, as: UTF8.self)] }) {
                count += 1
                if case .line(let l) = f, let n = c.payloadAfter[String(decoding: l, as: UTF8.self)] {
                    try? framer.expectPayload(n)
                    inPayload = true
                } else if case .inlineHeader = f {
                    inPayload = true
                } else if case .payload = f {
                    inPayload = false
                }
            }
            if !inPayload, !framer.isMidFrame, byte == 0x0A {
                boundaries.append((i + 1, count))
            }
        }
        #expect(boundaries.count > 1)
        for (at, before) in boundaries {
            var bytes = c.bytes
            bytes.insert(contentsOf: urc, at: at)
            var expected = c.frames
            expected.insert(line("+QIURC: \"recv\",3"), at: before)
            var withURC = c
            withURC.bytes = bytes
            for chunk in [1, 2, 3, 7, 64, bytes.count] {
                var f = ATFramer()
                #expect(cut(withURC, chunk: chunk, framer: &f) == expected, "URC at byte \(at), chunk \(chunk)")
            }
        }
    }

    @Test func oversizeLineIsDroppedAndCounted() {
        var framer = ATFramer(maxLineLength: 64)
        let bytes = Array(repeating: UInt8(ascii: "x"), count: 10_000) + b("\r\nOK\r\n")
        var index = 0
        var frames: [ATFrame] = []
        while let f = framer.next(bytes, index: &index) { frames.append(f) }
        #expect(frames == [line("OK")])
        #expect(framer.droppedLines == 1)
        #expect(framer.bufferedCount == 0)
    }

    @Test func garbageFloodStaysBounded() {
        var framer = ATFramer(maxLineLength: 128)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let chunk = (0..<512).map { _ in UInt8.random(in: 0x20...0x7E, using: &rng) }
            var index = 0
            while framer.next(chunk, index: &index) != nil {}
            #expect(framer.bufferedCount <= 128)
        }
    }

    @Test func payloadLongerThanTheCapIsRefused() {
        var framer = ATFramer(maxPayloadLength: 100)
        #expect(throws: ATError.payloadTooLong) { try framer.expectPayload(101) }
        #expect(throws: ATError.payloadTooLong) { try framer.expectPayload(-1) }
        #expect(framer.mode == .lines)
    }

    @Test func zeroLengthPayloadCompletesAtOnce() throws {
        var framer = ATFramer()
        try framer.expectPayload(0)
        let none: [UInt8] = []
        var index = 0
        #expect(framer.next(none, index: &index) == .payload([]))
        #expect(framer.mode == .lines)
    }
}
