/// Cuts the modem's byte stream into lines, `>` prompts and counted payloads.
///
/// The mode is explicit state, switched by whoever understands the lines (the engine and the
/// dialect), never guessed from the bytes: after a header such as `+QIRD: 14` the caller says
/// `expectPayload(14)` and the next 14 bytes are taken by count, whatever they contain
/// (`\r\nOK\r\n`, `SEND OK`, `+QIURC: "recv",0`, 0x1A...). A line may also announce data that
/// follows it on the same line (OneMO `+MIPURC: "rtcp",0,10,<data>`): the `inline` probe
/// passed to `next` is asked at every comma of a `+` line whether the data starts there.
///
/// Memory is bounded whatever arrives: a line longer than `maxLineLength` is dropped (and
/// counted) up to its end; a payload longer than `maxPayloadLength` is refused.
///
/// Line ends are CR, LF or CR LF (ATS3/ATS4 defaults); empty lines and leading spaces are
/// dropped, so `\r\n> ` and `>` alike read as a prompt and the framing CR LF around
/// responses (Quectel EC §2.1.2) needs no special case.
public struct ATFramer: Sendable {
    public enum Mode: Equatable, Sendable {
        /// Lines only; `>` is an ordinary byte.
        case lines
        /// Lines, and a `>` at the start of a line is the data-entry prompt.
        case prompt
        /// The next `count` bytes are payload.
        case payload(Int)
    }

    /// Longest line kept; Quectel BC caps URCs at 1400 bytes (BC §2.4 note 4).
    public static let defaultMaxLineLength = 2048
    /// Largest counted payload accepted: OneMO MIPRD reads up to 4096 bytes, in hex 8192.
    public static let defaultMaxPayloadLength = 8192

    public let maxLineLength: Int
    public let maxPayloadLength: Int
    public private(set) var mode: Mode = .lines

    /// Lines dropped because they outgrew `maxLineLength`.
    public private(set) var droppedLines = 0

    private var line: [UInt8] = []
    private var lineOverflowed = false
    private var payload: [UInt8] = []
    /// The last line ended on CR: one LF right after it is part of that line end, not payload.
    private var swallowLF = false
    /// Inline data ended: whatever is left of its line up to CR/LF is dropped.
    private var discardToLineEnd = false
    private var modeBeforePayload: Mode = .lines

    public init(maxLineLength: Int = ATFramer.defaultMaxLineLength,
                maxPayloadLength: Int = ATFramer.defaultMaxPayloadLength) {
        self.maxLineLength = max(16, maxLineLength)
        self.maxPayloadLength = max(0, maxPayloadLength)
        self.line.reserveCapacity(256)
    }

    /// Bytes held that do not yet form a frame (always ≤ max(maxLineLength, maxPayloadLength)).
    public var bufferedCount: Int { self.line.count + self.payload.count }

    /// True while a line, or a payload, has started but is not complete.
    public var isMidFrame: Bool {
        if case .payload = self.mode { return true }
        return !self.line.isEmpty || self.discardToLineEnd
    }

    /// The next `count` bytes (after the CR LF that ended the header line) are payload.
    public mutating func expectPayload(_ count: Int) throws(ATError) {
        guard count >= 0, count <= self.maxPayloadLength else { throw .payloadTooLong }
        if case .payload = self.mode { return }
        self.modeBeforePayload = self.mode
        self.mode = .payload(count)
        self.payload.removeAll(keepingCapacity: true)
        self.payload.reserveCapacity(count)
    }

    /// A send command is waiting for `>`.
    public mutating func expectPrompt() {
        switch self.mode {
        case .payload: self.modeBeforePayload = .prompt
        default: self.mode = .prompt
        }
    }

    /// Back to plain lines (a command finished or timed out). A payload in progress is kept:
    /// its length came from the modem and its bytes are still on their way.
    public mutating func endPrompt() {
        switch self.mode {
        case .payload: self.modeBeforePayload = .lines
        default: self.mode = .lines
        }
    }

    /// Abandons everything buffered (the modem rebooted, or a command timed out mid-payload).
    public mutating func reset() {
        self.mode = .lines
        self.line.removeAll(keepingCapacity: true)
        self.payload.removeAll(keepingCapacity: true)
        self.lineOverflowed = false
        self.swallowLF = false
        self.discardToLineEnd = false
    }

    /// Consumes `input` from `index` until one frame is complete (returned, `index` just past
    /// its last byte) or the input is used up (`nil`, `index == input.endIndex`).
    ///
    /// - Parameter inline: asked with the line so far, at each comma of a line starting with
    ///   `+`: the number of data bytes that follow on the same line, or nil when this is not
    ///   (yet) an inline-data header.
    ///
    /// Not generic on purpose: the daemon calls it through the driver on every serial read,
    /// and an unspecialised generic version spent more on run-time type metadata than on
    /// the bytes.
    public mutating func next(
        _ input: UnsafeRawBufferPointer, index: inout Int, inline: (ArraySlice<UInt8>) -> Int? = { _ in nil }
    ) -> ATFrame? {
        while true {
            if case .payload(let remaining) = self.mode {
                if remaining == 0 { return self.finishPayload() }
                guard index < input.endIndex else { return nil }
                if self.swallowLF {
                    self.swallowLF = false
                    if input[index] == 0x0A {
                        index += 1
                        continue
                    }
                }
                // Bulk copy: the payload is taken by count, its bytes are never inspected.
                let take = min(input.endIndex - index, remaining)
                let end = index + take
                self.payload.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index..<end]))
                index = end
                self.mode = .payload(remaining - take)
                continue
            }
            guard index < input.endIndex else { return nil }
            let byte = input[index]
            index += 1
            if let frame = self.lineByte(byte, inline: inline) { return frame }
        }
    }

    /// `next` over any byte collection (tests, tools): the same framing, by copy when the
    /// collection is not contiguous.
    public mutating func next<C: RandomAccessCollection>(
        _ input: C, index: inout C.Index, inline: (ArraySlice<UInt8>) -> Int? = { _ in nil }
    ) -> ATFrame? where C.Element == UInt8 {
        let rest = input[index...]
        let contiguous = rest.withContiguousStorageIfAvailable { buffer -> (ATFrame?, Int) in
            var i = 0
            let frame = self.next(UnsafeRawBufferPointer(buffer), index: &i, inline: inline)
            return (frame, i)
        }
        let (frame, consumed) = contiguous ?? Array(rest).withUnsafeBytes { buffer -> (ATFrame?, Int) in
            var i = 0
            let frame = self.next(buffer, index: &i, inline: inline)
            return (frame, i)
        }
        index = input.index(index, offsetBy: consumed)
        return frame
    }

    private mutating func finishPayload() -> ATFrame {
        let bytes = self.payload
        self.payload = []
        self.mode = self.modeBeforePayload
        self.modeBeforePayload = .lines
        return .payload(bytes)
    }

    private mutating func lineByte(_ byte: UInt8, inline: (ArraySlice<UInt8>) -> Int?) -> ATFrame? {
        let wasCR = self.swallowLF
        self.swallowLF = false
        switch byte {
        case 0x0D, 0x0A:
            if byte == 0x0A && wasCR { return nil }
            self.swallowLF = byte == 0x0D
            self.discardToLineEnd = false
            if self.lineOverflowed {
                self.lineOverflowed = false
                self.line.removeAll(keepingCapacity: true)
                return nil
            }
            guard !self.line.isEmpty else { return nil }
            let done = self.line
            self.line.removeAll(keepingCapacity: true)
            return .line(done)
        default:
            if self.discardToLineEnd || self.lineOverflowed { return nil }
            if self.line.isEmpty {
                if byte == 0x20 { return nil }
                if byte == UInt8(ascii: ">") && self.mode == .prompt {
                    self.mode = .lines
                    return .prompt
                }
            }
            guard self.line.count < self.maxLineLength else {
                self.lineOverflowed = true
                self.droppedLines &+= 1
                return nil
            }
            self.line.append(byte)
            if byte == UInt8(ascii: ","), self.line.first == UInt8(ascii: "+"),
               let count = inline(self.line[...]) {
                let header = self.line
                self.line.removeAll(keepingCapacity: true)
                do {
                    try self.expectPayload(count)
                } catch {
                    // A length we cannot hold: the rest of the line is dropped, not parsed.
                    self.droppedLines &+= 1
                    self.discardToLineEnd = true
                    return nil
                }
                self.discardToLineEnd = true
                return .inlineHeader(header)
            }
            return nil
        }
    }
}
