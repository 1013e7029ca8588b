/// One AT command line as the modem's command interpreter sees it.
///
/// Every manual read for this emulator uses the same four forms (quectel.md §1.1, onemo.md §2,
/// simcom-sim7028.md §2): test `AT+X=?`, read `AT+X?`, set `AT+X=<p1>[,<p2>...]` and execute
/// `AT+X`. Basic commands (`ATE0`, `ATI`, `ATO`, `AT&D1`) carry their digit in `basicValue`.
struct ATCommand: Equatable {
    enum Form: Equatable { case execute, test, read, set }

    /// Upper-cased name without the leading `AT`: `+QIOPEN`, `E`, `I`, `&D`, or `""` for bare `AT`.
    var name: String
    var form: Form
    /// The parameters of a set command, in order; empty for other forms.
    var arguments: [ATArgument]
    /// The numeric suffix of a basic command (`ATE0` → 0); nil when absent.
    var basicValue: Int?
    /// The text after `AT`, exactly as typed (for commands that parse their own tail).
    var tail: String
}

/// One comma-separated parameter.
enum ATArgument: Equatable {
    /// `"text"`: the quotes are not part of the value.
    case quoted(String)
    /// A bare token, surrounding spaces removed; `""` when the parameter was left out.
    case bare(String)

    var isOmitted: Bool { if case .bare(let s) = self { return s.isEmpty } else { return false } }

    /// The integer value of a bare decimal token; nil for anything else (quoted, empty, junk,
    /// out of `Int` range). Manuals never quote integers, so a quoted one is malformed.
    var integer: Int? {
        guard case .bare(let s) = self, !s.isEmpty, s.count <= 18 else { return nil }
        var value = 0
        var negative = false
        for (i, c) in s.utf8.enumerated() {
            if i == 0 && c == UInt8(ascii: "-") { negative = true; continue }
            guard c >= 48 && c <= 57 else { return nil }
            value = value * 10 + Int(c - 48)
        }
        if negative && s.utf8.count == 1 { return nil }
        return negative ? -value : value
    }

    /// The text of a quoted parameter; nil for a bare one.
    var quotedText: String? { if case .quoted(let s) = self { return s } else { return nil } }

    /// The text whether quoted or not (for dialects that accept both, quectel.md §11 B3).
    var text: String { switch self { case .quoted(let s), .bare(let s): return s } }
}

enum ATCommandParseError: Error, Equatable {
    /// The line does not start with `AT` (such lines are ignored, as by real modems).
    case notACommand
    /// Something after `AT` cannot be read: an unterminated quote, a bad character.
    case malformed
}

extension ATCommand {
    /// Parses the text of one command line (without its terminating `<CR>`).
    ///
    /// Only one command per line: `;` concatenation is answered `ERROR` by the caller, because
    /// the BC manual says `;` is not supported inside parameters (quectel.md §5.4.2 note 3) and
    /// no manual used here documents concatenation.
    static func parse(_ line: [UInt8]) throws(ATCommandParseError) -> ATCommand {
        var start = 0
        // Leading spaces and NULs before "AT" are line noise, not part of the command.
        while start < line.count, line[start] == 0x20 || line[start] == 0x00 || line[start] == 0x0A { start += 1 }
        guard line.count - start >= 2,
              line[start] | 0x20 == UInt8(ascii: "a"), line[start + 1] | 0x20 == UInt8(ascii: "t")
        else { throw .notACommand }
        let body = Array(line[(start + 2)...])
        guard let tail = String(validating: body, as: UTF8.self) else { throw .malformed }
        if body.isEmpty { return ATCommand(name: "", form: .execute, arguments: [], basicValue: nil, tail: tail) }

        let first = body[0]
        if first == UInt8(ascii: "+") || first == UInt8(ascii: "^") || first == UInt8(ascii: "$") {
            // Extended command: name runs to '=', '?' or end.
            var i = 1
            while i < body.count, isNameByte(body[i]) { i += 1 }
            guard i > 1 else { throw .malformed }
            let name = String(decoding: body[0..<i], as: UTF8.self).uppercased()
            let rest = Array(body[i...])
            if rest.isEmpty { return ATCommand(name: name, form: .execute, arguments: [], basicValue: nil, tail: tail) }
            if rest == Array("?".utf8) { return ATCommand(name: name, form: .read, arguments: [], basicValue: nil, tail: tail) }
            if rest == Array("=?".utf8) { return ATCommand(name: name, form: .test, arguments: [], basicValue: nil, tail: tail) }
            guard rest[0] == UInt8(ascii: "=") else { throw .malformed }
            let arguments = try parseArguments(Array(rest[1...]))
            return ATCommand(name: name, form: .set, arguments: arguments, basicValue: nil, tail: tail)
        }
        // Basic command: one letter (or '&' + letter) and an optional number.
        var i = 0
        var name = ""
        if first == UInt8(ascii: "&") {
            guard body.count >= 2, isLetter(body[1]) else { throw .malformed }
            name = "&" + String(UnicodeScalar(body[1] & ~0x20))
            i = 2
        } else if isLetter(first) {
            name = String(UnicodeScalar(first & ~0x20))
            i = 1
        } else {
            throw .malformed
        }
        var digits = 0
        var value: Int? = nil
        while i < body.count, body[i] >= 48, body[i] <= 57, digits < 6 {
            value = (value ?? 0) * 10 + Int(body[i] - 48)
            i += 1
            digits += 1
        }
        if i < body.count {
            if body[i...].elementsEqual("?".utf8) { return ATCommand(name: name, form: .read, arguments: [], basicValue: value, tail: tail) }
            throw .malformed
        }
        return ATCommand(name: name, form: .execute, arguments: [], basicValue: value, tail: tail)
    }

    private static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 97 && (b | 0x20) <= 122 }

    private static func isNameByte(_ b: UInt8) -> Bool {
        isLetter(b) || (b >= 48 && b <= 57) || b == UInt8(ascii: "_") || b == UInt8(ascii: "&")
    }

    /// Splits `p1,"p 2",,p4` into parameters; commas inside quotes belong to the string.
    /// A quoted string has no escapes in any of these manuals: the next `"` ends it.
    static func parseArguments(_ bytes: [UInt8]) throws(ATCommandParseError) -> [ATArgument] {
        var result: [ATArgument] = []
        var i = 0
        while true {
            while i < bytes.count, bytes[i] == 0x20 { i += 1 }
            if i < bytes.count, bytes[i] == UInt8(ascii: "\"") {
                var j = i + 1
                while j < bytes.count, bytes[j] != UInt8(ascii: "\"") { j += 1 }
                guard j < bytes.count else { throw .malformed }
                guard let s = String(validating: bytes[(i + 1)..<j], as: UTF8.self) else { throw .malformed }
                result.append(.quoted(s))
                i = j + 1
                while i < bytes.count, bytes[i] == 0x20 { i += 1 }
                if i == bytes.count { return result }
                guard bytes[i] == UInt8(ascii: ",") else { throw .malformed }
                i += 1
            } else {
                var j = i
                while j < bytes.count, bytes[j] != UInt8(ascii: ",") {
                    if bytes[j] == UInt8(ascii: "\"") { throw .malformed }
                    j += 1
                }
                var token = Array(bytes[i..<j])
                while let last = token.last, last == 0x20 { token.removeLast() }
                guard let s = String(validating: token, as: UTF8.self) else { throw .malformed }
                result.append(.bare(s))
                if j == bytes.count { return result }
                i = j + 1
            }
        }
    }
}
