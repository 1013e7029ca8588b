import Buffers

/// How the modem reads its serial input: command lines with echo and editing, raw data after
/// a `>` prompt, input held while a command runs, and how a command's reply and held URCs are
/// written out.
extension SimModem {
    func feed(_ byte: UInt8, now: Instant) {
        currentTime = now
        if silentUntil != nil { return }
        switch mode {
        case .booting:
            return
        case .busy:
            if deferredInput.count < Self.maxLineLength { deferredInput.append(byte) }
        case .dataEntry(var entry):
            feedData(byte, entry: &entry, now: now)
        case .transparent(var link):
            feedTransparent(byte, link: &link, now: now)
        case .command:
            if echo { output.append(byte) }
            switch byte {
            case 0x0D:
                let line = lineBuffer
                let overflow = lineOverflow
                lineBuffer.removeAll(keepingCapacity: true)
                lineOverflow = false
                if overflow { conclude(.error, now: now); return }
                if options.latency > .zero {
                    mode = .busy
                    pendingLine = (line, now + options.latency)
                } else {
                    run(line, now: now)
                }
            case 0x0A where lineBuffer.isEmpty:
                return
            case 0x08:
                if !lineBuffer.isEmpty { lineBuffer.removeLast() }
            default:
                if lineBuffer.count < Self.maxLineLength { lineBuffer.append(byte) } else { lineOverflow = true }
            }
        }
    }

    func feedData(_ byte: UInt8, entry: inout DataEntry, now: Instant) {
        if entry.echo { output.append(byte) }
        if let esc = entry.escapeByte {
            if entry.escaping {
                entry.escaping = false
                entry.buffer.append(byte)
                return finishIfComplete(entry, now: now)
            }
            if byte == esc, case .untilCtrlZ = entry.length {
                entry.escaping = true
                mode = .dataEntry(entry)
                return
            }
        }
        switch entry.length {
        case .fixed:
            entry.buffer.append(byte)
        case .untilCtrlZ(let max):
            if byte == 0x1A { return finishDataEntry(entry, .data(entry.buffer), now: now) }
            if byte == 0x1B { return finishDataEntry(entry, .cancelled, now: now) }
            if entry.buffer.count >= max { return finishDataEntry(entry, .overflow, now: now) }
            entry.buffer.append(byte)
        }
        finishIfComplete(entry, now: now)
    }

    func finishIfComplete(_ entry: DataEntry, now: Instant) {
        if case .fixed(let n) = entry.length, entry.buffer.count >= n {
            return finishDataEntry(entry, .data(entry.buffer), now: now)
        }
        mode = .dataEntry(entry)
    }

    func finishDataEntry(_ entry: DataEntry, _ outcome: DataEntry.Outcome, now: Instant) {
        mode = .busy
        executing = true
        let reply = entry.completion(self, outcome, now)
        executing = false
        conclude(reply, now: now)
    }

    func run(_ line: [UInt8], now: Instant) {
        currentTime = now
        mode = .busy
        let command: ATCommand
        do {
            if line.contains(UInt8(ascii: ";")) && !Self.semicolonOnlyInQuotes(line) {
                conclude(.error, now: now)
                return
            }
            command = try ATCommand.parse(line)
        } catch .notACommand {
            // Modems ignore lines that do not start with AT (line noise, a stray CR/LF).
            mode = .command
            resumeDeferred(now: now)
            return
        } catch {
            conclude(.error, now: now)
            return
        }
        executing = true
        var reply = dialect.execute(command, modem: self, now: now)
        if case .unknown = reply { reply = standardCommand(command, now: now) }
        executing = false
        if case .unknown = reply { reply = .error }
        conclude(reply, now: now)
    }

    private static func semicolonOnlyInQuotes(_ line: [UInt8]) -> Bool {
        var inQuotes = false
        for b in line {
            if b == UInt8(ascii: "\"") { inQuotes.toggle() } else if b == UInt8(ascii: ";") && !inQuotes { return false }
        }
        return true
    }

    func conclude(_ reply: CommandReply, now: Instant) {
        switch reply {
        case .final(let code, let then):
            flushHeldURCs()
            output += Self.frame(code)
            for line in then { output += Self.frame(line) }
            for u in afterFinal { output += u }
            afterFinal.removeAll()
            mode = .command
            resumeDeferred(now: now)
        case .unknown:
            conclude(.error, now: now)
        case .dataEntry(let entry):
            mode = .dataEntry(entry)
            if !deferredInput.isEmpty { resumeDeferred(now: now) }
        case .pending:
            mode = .busy
        case .connect(let socket, let settings):
            flushHeldURCs()
            output += Self.frame(settings.connectText)
            for u in afterFinal { output += u }
            afterFinal.removeAll()
            enterTransparent(socket, settings, now: now)
            resumeDeferred(now: now)
        }
    }

    func resumeDeferred(now: Instant) {
        guard !deferredInput.isEmpty else { return }
        let bytes = deferredInput
        deferredInput = []
        for b in bytes { feed(b, now: now) }
    }

    func flushHeldURCs() {
        for u in heldURCs { output += u }
        heldURCs.removeAll()
        heldDeadline = nil
    }
}
