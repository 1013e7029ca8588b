/// The text of one AT command line, built so that nothing from outside can end it early or
/// start a second command: every argument that comes from a user or an app (APN, host name)
/// goes through `quoted`, which refuses CR, LF, `"`, `\`, `;`, control and non-ASCII bytes
/// and over-long text, instead of trying to escape them (the manuals define no escape).
public struct ATCommandLine: Sendable, Equatable, CustomStringConvertible {
    /// One parameter after `=`.
    public enum Argument: Sendable, Equatable {
        case int(Int)
        /// A string parameter: written in double quotes after validation.
        case quoted(String)
        /// A fixed token from the driver's own source, written as is (e.g. an unquoted enum).
        case token(StaticStringToken)
        /// An omitted optional parameter (`AT+CIPSEND=1,,"1.2.3.4",5`).
        case empty
    }

    /// A driver's literal text; only constructible from a `StaticString`.
    public struct StaticStringToken: Sendable, Equatable {
        let bytes: [UInt8]
        public init(_ s: StaticString) {
            self.bytes = s.withUTF8Buffer { Array($0) }
        }
    }

    public private(set) var bytes: [UInt8]

    /// Longest quoted argument accepted unless the caller says otherwise (Quectel BC host
    /// names: 150 bytes, BC §2.3.1).
    public static let defaultMaxArgumentLength = 150

    /// A command with no parameters, e.g. `AT+CSQ` or `AT+CPIN?`.
    public init(_ command: StaticString) {
        self.bytes = command.withUTF8Buffer { Array($0) }
    }

    /// `command=arg1,arg2,...`.
    public init(_ command: StaticString, _ arguments: [Argument],
                maxArgumentLength: Int = ATCommandLine.defaultMaxArgumentLength) throws(ATError) {
        self.bytes = []
        // One allocation for the usual line (a verb and a few numbers; quoted hosts grow it).
        self.bytes.reserveCapacity(command.utf8CodeUnitCount + 32)
        command.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
        self.bytes.append(UInt8(ascii: "="))
        for (i, argument) in arguments.enumerated() {
            if i > 0 { self.bytes.append(UInt8(ascii: ",")) }
            switch argument {
            case .int(let n): Self.appendDecimal(n, to: &self.bytes)
            case .token(let t): self.bytes.append(contentsOf: t.bytes)
            case .empty: break
            case .quoted(let s):
                try Self.validate(s, maxLength: maxArgumentLength)
                self.bytes.append(UInt8(ascii: "\""))
                self.bytes.append(contentsOf: s.utf8)
                self.bytes.append(UInt8(ascii: "\""))
            }
        }
    }

    /// `n` in decimal, digits written in place (no intermediate `String`).
    static func appendDecimal(_ n: Int, to bytes: inout [UInt8]) {
        if n < 0 { bytes.append(UInt8(ascii: "-")) }
        var rest = n.magnitude
        let start = bytes.count
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        bytes[start...].reverse()
    }

    /// Refuses text that could break out of a quoted AT parameter.
    public static func validate(_ s: String, maxLength: Int) throws(ATError) {
        var count = 0
        for b in s.utf8 {
            count += 1
            guard count <= maxLength else { throw .unsafeArgument }
            switch b {
            case 0x20...0x7E:
                if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b == UInt8(ascii: ";") {
                    throw .unsafeArgument
                }
            default: throw .unsafeArgument
            }
        }
    }

    /// A host name or address literal as the modems accept it: letters, digits, `.`, `-`,
    /// `_` and `:` (IPv6), 1–`maxLength` bytes.
    public static func validateHost(_ s: String, maxLength: Int = 150) throws(ATError) {
        var count = 0
        for b in s.utf8 {
            count += 1
            guard count <= maxLength else { throw .unsafeArgument }
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: ":"):
                continue
            default: throw .unsafeArgument
            }
        }
        guard count > 0 else { throw .unsafeArgument }
    }

    public var description: String { String(decoding: self.bytes, as: UTF8.self) }
}
