/// Long options, parsed from the command line and from the config file by one table.
///
/// Every subcommand declares its options once as `OptionSpec`s; `--key value`,
/// `--key=value` and config lines `key = value` all feed the same table, so the file and
/// the command line cannot drift apart and the help text is generated from the same source.
/// Command-line values override file values (a repeatable option given on the command line
/// replaces the file's list rather than adding to it).
public struct OptionSpec: Sendable {
    public enum Kind: Sendable, Equatable {
        /// Takes no value: present or absent.
        case flag
        /// Takes one value; the last occurrence wins.
        case value(placeholder: String)
        /// Takes one value each time and may be repeated.
        case repeated(placeholder: String)
    }

    public let name: String
    public let kind: Kind
    public let help: String
    /// Whether the config file may set it (some, like `--config` itself, make no sense there).
    public let inConfigFile: Bool

    public init(_ name: String, _ kind: Kind, _ help: String, inConfigFile: Bool = true) {
        self.name = name
        self.kind = kind
        self.help = help
        self.inConfigFile = inConfigFile
    }
}

/// A usage error: the text names the offending word and what was expected.
public struct UsageError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { self.message }
}

/// The parsed options of one command.
public struct ParsedOptions: Sendable, Equatable {
    public internal(set) var values: [String: [String]] = [:]
    /// Words that are not options, in order.
    public internal(set) var positionals: [String] = []
    /// Where each option came from, for messages such as "--baud (from /etc/tun2modem.conf:3)".
    public private(set) var origins: [String: String] = [:]

    public init() {}

    public func has(_ name: String) -> Bool { self.values[name] != nil }
    public func value(_ name: String) -> String? { self.values[name]?.last }
    public func all(_ name: String) -> [String] { self.values[name] ?? [] }
    public func origin(_ name: String) -> String { self.origins[name] ?? "--\(name)" }

    /// An integer option within `range`; a usage error names the option, its source and the range.
    public func int(_ name: String, in range: ClosedRange<Int>) throws(UsageError) -> Int? {
        guard let text = self.value(name) else { return nil }
        guard let n = Int(text), range.contains(n) else {
            throw UsageError("\(self.origin(name)): expected a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return n
    }

    /// These options with `other`'s taking precedence, option by option.
    public func overridden(by other: ParsedOptions) -> ParsedOptions {
        var merged = self
        for (key, list) in other.values {
            merged.values[key] = list
            merged.origins[key] = other.origins[key]
        }
        merged.positionals = other.positionals.isEmpty ? self.positionals : other.positionals
        return merged
    }

    mutating func add(_ spec: OptionSpec, _ value: String?, origin: String) {
        switch spec.kind {
        case .flag: self.values[spec.name] = ["true"]
        case .value: self.values[spec.name] = [value ?? ""]
        case .repeated: self.values[spec.name, default: []].append(value ?? "")
        }
        self.origins[spec.name] = origin
    }
}

public struct OptionTable: Sendable {
    public let specs: [OptionSpec]

    public init(_ specs: [OptionSpec]) { self.specs = specs }

    func spec(_ name: String) -> OptionSpec? { self.specs.first { $0.name == name } }

    /// Parses command-line words (after the subcommand). `--` ends option parsing.
    public func parse(arguments: [String]) throws(UsageError) -> ParsedOptions {
        var parsed = ParsedOptions()
        var index = 0
        var onlyPositionals = false
        while index < arguments.count {
            let word = arguments[index]
            index += 1
            if onlyPositionals || !word.hasPrefix("-") || word == "-" {
                parsed.positionals.append(word)
                continue
            }
            if word == "--" { onlyPositionals = true; continue }
            guard word.hasPrefix("--") else {
                throw UsageError("unknown option '\(word)': options are long, e.g. --help")
            }
            let body = word.dropFirst(2)
            let name: String
            var inlineValue: String?
            if let eq = body.firstIndex(of: "=") {
                name = String(body[..<eq])
                inlineValue = String(body[body.index(after: eq)...])
            } else {
                name = String(body)
            }
            guard let spec = self.spec(name) else {
                throw UsageError("unknown option '--\(name)'\(self.suggestion(for: name))")
            }
            switch spec.kind {
            case .flag:
                if inlineValue != nil { throw UsageError("--\(name) takes no value") }
                parsed.add(spec, nil, origin: "--\(name)")
            case .value(let placeholder), .repeated(let placeholder):
                if inlineValue == nil {
                    guard index < arguments.count else { throw UsageError("--\(name) needs a value: --\(name) \(placeholder)") }
                    inlineValue = arguments[index]
                    index += 1
                }
                parsed.add(spec, inlineValue, origin: "--\(name)")
            }
        }
        return parsed
    }

    /// Parses a config file's text: `key = value` lines with the long options' names,
    /// `#` comments, blank lines; a flag takes `true`/`false`/`yes`/`no`/`1`/`0`.
    public func parse(configText: String, path: String) throws(UsageError) -> ParsedOptions {
        var parsed = ParsedOptions()
        var lineNumber = 0
        for rawLine in configText.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let where_ = "\(path):\(lineNumber)"
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let text = Self.trimmed(line)
            if text.isEmpty { continue }
            guard let eq = text.firstIndex(of: "=") else {
                throw UsageError("\(where_): expected 'key = value', got '\(text)'")
            }
            let key = Self.trimmed(text[..<eq])
            let value = Self.trimmed(text[text.index(after: eq)...])
            guard let spec = self.spec(String(key)), spec.inConfigFile else {
                throw UsageError("\(where_): unknown key '\(key)'\(self.suggestion(for: String(key)))")
            }
            switch spec.kind {
            case .flag:
                switch value.lowercased() {
                case "true", "yes", "1", "on": parsed.add(spec, nil, origin: where_)
                case "false", "no", "0", "off": parsed.values[spec.name] = nil
                default: throw UsageError("\(where_): \(key) takes true or false, got '\(value)'")
                }
            case .value, .repeated:
                guard !value.isEmpty else { throw UsageError("\(where_): \(key) needs a value") }
                parsed.add(spec, String(value), origin: where_)
            }
        }
        return parsed
    }

    /// The options part of a `--help` text, one option per line, aligned.
    public func helpText() -> String {
        let lefts = self.specs.map { spec -> String in
            switch spec.kind {
            case .flag: return "--\(spec.name)"
            case .value(let p): return "--\(spec.name) \(p)"
            case .repeated(let p): return "--\(spec.name) \(p) ..."
            }
        }
        let width = (lefts.map(\.count).max() ?? 0) + 2
        var out = ""
        for (left, spec) in zip(lefts, self.specs) {
            out += "  " + left + String(repeating: " ", count: width - left.count) + spec.help + "\n"
        }
        return out
    }

    private func suggestion(for name: String) -> String {
        let close = self.specs.map(\.name).filter { $0.hasPrefix(String(name.prefix(3))) }
        return close.isEmpty ? "; see --help" : "; did you mean " + close.map { "--\($0)" }.joined(separator: ", ") + "?"
    }

    private static func trimmed(_ s: Substring) -> Substring {
        var s = s
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s.removeLast() }
        return s
    }
}
