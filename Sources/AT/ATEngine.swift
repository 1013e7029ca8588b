import Buffers

/// What the engine needs from the dialect to take payload by count: which headers announce
/// data, and how much. Only the dialect knows (the same `+QIURC: "recv",0,4` line is a bare
/// notice in buffer mode and a header of 4 data bytes in direct-push mode, Quectel §4.3).
public protocol ATPayloadRules<Tag> {
    associatedtype Tag: Sendable
    /// Data bytes that follow on the next line after this information line of `command`.
    func payloadLength(afterInfo line: [UInt8], of command: ATCommand<Tag>) -> Int?
    /// Data bytes that follow on the next line after this URC.
    func payloadLength(afterURC line: [UInt8]) -> Int?
    /// Data bytes that follow on the same line after this partial line (ending in a comma).
    func inlinePayloadLength(_ partialLine: ArraySlice<UInt8>, inFlight: Tag?) -> Int?
}

/// What the engine reports to its owner.
public enum ATEvent<Tag: Sendable>: Sendable {
    /// The command in flight ended (result code or timeout).
    case completed(ATResponse<Tag>)
    /// An unsolicited line, with the payload its header announced.
    case urc(ATInfo)
}

/// Bytes for the serial fd, as slices ready for one `writev`: the payload is the caller's
/// buffer, not a copy.
public struct ATWrite: Sendable {
    public var parts: [ArraySlice<UInt8>]
    public var count: Int { self.parts.reduce(0) { $0 + $1.count } }
}

/// The command engine: one command in flight, a bounded queue behind it, matching of echo,
/// information lines, prompt and final result, timeouts, and URCs recognised anywhere —
/// between a command's echo and its result, and between `>` and `SEND OK` (Zephyr's
/// modem_chat shape). Sans-I/O: bytes and time in, writes and events out.
public struct ATEngine<Tag: Sendable>: Sendable {
    private struct InFlight: Sendable {
        var command: ATCommand<Tag>
        var startedAt: Instant
        var echoSeen = false
        var prompted = false
        var info: [ATInfo] = []
        var intermediates: [ATResult] = []
        var awaitingInfoPayload = false
    }

    /// Commands waiting behind the one in flight.
    public static var defaultMaxQueued: Int { 32 }

    public var framer: ATFramer
    public let maxQueued: Int
    private var queue: [ATCommand<Tag>] = []
    private var inFlight: InFlight?
    private var urcAwaitingPayload: [UInt8]?
    private var writes = OutputQueue<ATWrite>()
    private var events = OutputQueue<ATEvent<Tag>>()

    /// Payload headers whose length the framer refused (over its cap); their lines were
    /// passed on without payload and the bytes that followed read as lines.
    public private(set) var refusedPayloads = 0

    public init(framer: ATFramer = ATFramer(), maxQueued: Int = ATEngine.defaultMaxQueued) {
        self.framer = framer
        self.maxQueued = max(1, maxQueued)
    }

    public var isIdle: Bool { self.inFlight == nil && self.queue.isEmpty }
    public var queuedCount: Int { self.queue.count }
    // The in-flight command's tag and deadline are kept beside it rather than read out of
    // it: reading a field of the optional record copied the whole record (a retain and
    // release of each of its arrays), and the owner asks both on every turn of its loop.
    public private(set) var inFlightTag: Tag?
    /// When `tick` must next be called: the in-flight command's deadline.
    public private(set) var nextDeadline: Instant?

    /// Queues `command`, and sends it at once when nothing is in flight.
    public mutating func enqueue(_ command: ATCommand<Tag>, now: Instant) throws(ATError) {
        guard self.queue.count < self.maxQueued else { throw .queueFull }
        self.queue.append(command)
        self.dispatchIfIdle(now: now)
    }

    /// The next bytes to write, oldest first.
    public mutating func nextWrite() -> ATWrite? { self.writes.popFirst() }

    /// The next event, oldest first.
    public mutating func nextEvent() -> ATEvent<Tag>? { self.events.popFirst() }

    /// Feeds bytes read from the serial fd.
    public mutating func receive<R: ATPayloadRules>(
        _ bytes: UnsafeRawBufferPointer, now: Instant, rules: R
    ) where R.Tag == Tag {
        var index = 0
        while true {
            // The tag only: copying the whole command out for every frame cost a retain and
            // release of each of its arrays.
            let current = self.inFlightTag
            guard let frame = self.framer.next(bytes, index: &index, inline: {
                rules.inlinePayloadLength($0, inFlight: current)
            }) else { break }
            self.handle(frame, now: now, rules: rules)
        }
    }

    /// Times out the command in flight once its deadline has passed.
    public mutating func tick(now: Instant) {
        guard let deadline = self.nextDeadline, now >= deadline, self.inFlight != nil else { return }
        if self.inFlight!.awaitingInfoPayload { self.framer.reset() }
        self.finish(.timedOut, finalLine: [], now: now)
    }

    /// Ends the command in flight and every queued one with `result` (the modem rebooted:
    /// nothing it was asked will be answered).
    public mutating func abandonAll(_ result: ATResult) {
        if let f = self.inFlight {
            self.events.append(.completed(ATResponse(tag: f.command.tag, command: f.command.line, result: result, finalLine: [],
                                                     intermediates: f.intermediates, info: f.info,
                                                     prompted: f.prompted)))
        }
        self.inFlight = nil
        self.inFlightTag = nil
        self.nextDeadline = nil
        for c in self.queue {
            self.events.append(.completed(ATResponse(tag: c.tag, command: c.line, result: result, finalLine: [],
                                                     intermediates: [], info: [], prompted: false)))
        }
        self.queue.removeAll()
        self.urcAwaitingPayload = nil
        self.framer.reset()
    }

    /// Ends every queued command (not the one in flight) with `result`. After a modem
    /// restart the command in flight is left to finish: its answer (or its timeout) still
    /// comes, and sending the next one early would pair that late answer with it.
    public mutating func abandonQueued(_ result: ATResult) {
        for c in self.queue {
            self.events.append(.completed(ATResponse(tag: c.tag, command: c.line, result: result, finalLine: [],
                                                     intermediates: [], info: [], prompted: false)))
        }
        self.queue.removeAll()
    }

    private mutating func dispatchIfIdle(now: Instant) {
        guard self.inFlight == nil, !self.queue.isEmpty else { return }
        let command = self.queue.removeFirst()
        self.inFlight = InFlight(command: command, startedAt: now)
        self.inFlightTag = command.tag
        self.nextDeadline = now + command.timeout
        var line = command.line
        line.append(0x0D)
        self.writes.append(ATWrite(parts: [line[...]]))
        if command.payload != nil { self.framer.expectPrompt() }
    }

    private mutating func finish(_ result: ATResult, finalLine: [UInt8], now: Instant) {
        guard let f = self.inFlight.take() else { return }
        self.inFlightTag = nil
        self.nextDeadline = nil
        self.framer.endPrompt()
        self.events.append(.completed(ATResponse(tag: f.command.tag, command: f.command.line, result: result, finalLine: finalLine,
                                                 intermediates: f.intermediates, info: f.info,
                                                 prompted: f.prompted, elapsed: now - f.startedAt)))
        self.dispatchIfIdle(now: now)
    }

    // The in-flight record is changed in place (`self.inFlight!.…`), never copied out, changed
    // and stored back: a copy held while its `info` array grows makes every append copy the
    // array (copy-on-write), on every line of every response.

    private mutating func handle<R: ATPayloadRules>(_ frame: ATFrame, now: Instant, rules: R) where R.Tag == Tag {
        switch frame {
        case .prompt:
            guard self.inFlight?.prompted == false, let payload = self.inFlight?.command.payload else { return }
            self.inFlight!.prompted = true
            // The modem needs the whole timeout again to push the data out.
            self.nextDeadline = now + self.inFlight!.command.timeout
            self.writes.append(ATWrite(parts: payload))
        case .payload(let bytes):
            if let header = self.urcAwaitingPayload {
                self.urcAwaitingPayload = nil
                self.events.append(.urc(ATInfo(line: header, payload: bytes)))
            } else if self.inFlight?.awaitingInfoPayload == true, let last = self.inFlight?.info.indices.last {
                self.inFlight!.awaitingInfoPayload = false
                self.inFlight!.info[last].payload = bytes
            }
        case .inlineHeader(let header):
            if self.inFlight != nil, self.isInfo(header, of: self.inFlight!.command) {
                self.inFlight!.info.append(ATInfo(line: header))
                self.inFlight!.awaitingInfoPayload = true
            } else {
                self.urcAwaitingPayload = header
            }
        case .line(let line):
            self.handleLine(line, now: now, rules: rules)
        }
    }

    private func isInfo(_ line: [UInt8], of command: ATCommand<Tag>) -> Bool {
        for p in command.infoPrefixes where line.starts(with: p.utf8) { return true }
        if command.takesBareLines, line.first != UInt8(ascii: "+") { return true }
        return false
    }

    private mutating func handleLine<R: ATPayloadRules>(_ line: [UInt8], now: Instant, rules: R) where R.Tag == Tag {
        if self.inFlight != nil {
            // Echo (ATE1): the command line comes back before its answer.
            if !self.inFlight!.echoSeen, line == self.inFlight!.command.line {
                self.inFlight!.echoSeen = true
                return
            }
            for rule in self.inFlight!.command.finals where rule.matches(line) {
                if rule.onlyAfterIntermediate && self.inFlight!.intermediates.isEmpty {
                    self.inFlight!.info.append(ATInfo(line: line))
                    return
                }
                let result = Self.refine(rule.result, line: line)
                if rule.terminal {
                    self.finish(result, finalLine: line, now: now)
                } else {
                    self.inFlight!.intermediates.append(result)
                }
                return
            }
            if self.isInfo(line, of: self.inFlight!.command) {
                self.inFlight!.info.append(ATInfo(line: line))
                if let n = rules.payloadLength(afterInfo: line, of: self.inFlight!.command) {
                    do {
                        try self.framer.expectPayload(n)
                        self.inFlight!.awaitingInfoPayload = true
                    } catch {
                        self.refusedPayloads &+= 1
                    }
                }
                return
            }
        }
        if let n = rules.payloadLength(afterURC: line) {
            do {
                try self.framer.expectPayload(n)
                self.urcAwaitingPayload = line
                return
            } catch {
                self.refusedPayloads &+= 1
            }
        }
        self.events.append(.urc(ATInfo(line: line)))
    }

    /// Fills in the number of `+CME ERROR: <n>` / `+CMS ERROR: <n>`.
    private static func refine(_ result: ATResult, line: [UInt8]) -> ATResult {
        switch result {
        case .cmeError, .cmsError:
            var fields = ATFields(line)
            let n = fields.int() ?? -1
            if case .cmeError = result { return .cmeError(n) }
            return .cmsError(n)
        default: return result
        }
    }
}
