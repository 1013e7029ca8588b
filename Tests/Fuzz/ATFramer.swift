// fuzz-modules: AT Buffers
// fuzz-options: -max_len=4096
//
// Input: bytes from a modem. They are framed twice with the same mode rules — whole, and
// in chunks whose sizes come from the input — and the two frame lists must be equal
// (payload is taken by count wherever the chunk edges fall). The framer's buffer must stay
// within its caps, and the engine fed the same bytes, with a command in flight, must not trap.
import AT
import Buffers

/// Mode rules that depend only on the line: `+QIRD: <n>` announces n bytes on the next
/// line, `+MIPRD: <a>,<b>,<n>,` n bytes on the same line; `>` is a prompt after `AT+QISEND`.
private func frames(_ input: ArraySlice<UInt8>, chunks: [Int]) -> ([ATFrame], Int) {
    var framer = ATFramer(maxLineLength: 256, maxPayloadLength: 1024)
    var out: [ATFrame] = []
    var peak = 0
    var start = input.startIndex
    var c = 0
    framer.expectPrompt()
    while start < input.endIndex {
        let n = chunks.isEmpty ? input.count : max(1, chunks[c % chunks.count])
        c += 1
        let end = min(input.endIndex, start + n)
        let piece = input[start..<end]
        var index = piece.startIndex
        while let f = framer.next(piece, index: &index, inline: { partial in
            guard partial.starts(with: Array("+MIPRD:".utf8)) else { return nil }
            var commas = 0
            for b in partial where b == UInt8(ascii: ",") { commas += 1 }
            guard commas == 3 else { return nil }
            var fields = ATFields(Array(partial))
            _ = fields.int(); _ = fields.int()
            return fields.int()
        }) {
            out.append(f)
            if case .line(let l) = f, l.starts(with: Array("+QIRD:".utf8)) {
                var fields = ATFields(l)
                if let n = fields.int() { try? framer.expectPayload(n) }
            }
            if case .line(let l) = f, l == Array("ERROR".utf8) { framer.expectPrompt() }
            peak = max(peak, framer.bufferedCount)
        }
        peak = max(peak, framer.bufferedCount)
        start = end
    }
    return (out, peak)
}

private struct Rules: ATPayloadRules {
    typealias Tag = Int
    func payloadLength(afterInfo line: [UInt8], of command: ATCommand<Int>) -> Int? {
        var f = ATFields(line)
        return line.starts(with: Array("+QIRD:".utf8)) ? f.int() : nil
    }
    func payloadLength(afterURC line: [UInt8]) -> Int? {
        guard line.starts(with: Array("+IPD".utf8)) else { return nil }
        return ATFields.parseInt(line.dropFirst(4))
    }
    func inlinePayloadLength(_ partialLine: ArraySlice<UInt8>, inFlight: Int?) -> Int? { nil }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzATFramer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // The first bytes choose chunk sizes; all of the input is framed.
    let chunks = bytes.prefix(4).map { Int($0 % 17) + 1 }
    let (whole, peakWhole) = frames(bytes[...], chunks: [])
    let (chunked, peakChunked) = frames(bytes[...], chunks: chunks)
    precondition(whole == chunked, "framing depends on chunk edges")
    precondition(peakWhole <= 1024 && peakChunked <= 1024, "framer buffer over its cap")

    var engine = ATEngine<Int>()
    let prompt = try? ATCommandLine("AT+QISEND", [.int(0), .int(4)])
    if let prompt {
        try? engine.enqueue(ATCommand(prompt, tag: 1, timeout: .seconds(1), infoPrefixes: ["+QIRD:"],
                                      payload: [Array("data".utf8)[...]]), now: .zero)
    }
    try? engine.enqueue(ATCommand(ATCommandLine("AT+QIRD=0,1500"), tag: 2, timeout: .seconds(1),
                                  infoPrefixes: ["+QIRD:"]), now: .zero)
    var i = 0
    while i < bytes.count {
        let n = chunks[i % chunks.count]
        bytes[i..<min(bytes.count, i + n)].withUnsafeBytes { engine.receive($0, now: .milliseconds(Int64(i)), rules: Rules()) }
        i += n
        while engine.nextEvent() != nil {}
        while engine.nextWrite() != nil {}
    }
    engine.tick(now: .milliseconds(Int64(size) + 5000))
    return 0
}
