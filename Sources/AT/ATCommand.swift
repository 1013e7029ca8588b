/// One AT command as the engine runs it: the line, what its answer looks like, how long the
/// manual lets it take, and the payload to write at its `>` prompt.
public struct ATCommand<Tag: Sendable>: Sendable {
    /// The command without its CR, e.g. `AT+QIRD=0,1500`. Built only by `ATCommandLine`,
    /// which refuses bytes that could end it early.
    public var line: [UInt8]
    /// Information lines that belong to this command (`+QIRD:`); any other line is a URC.
    /// Kept as the driver's strings (short, stored inline) and compared by their UTF-8:
    /// converting each to an array cost an allocation per prefix per command.
    public var infoPrefixes: [String]
    /// Lines without a `+` prefix belong to this command (`AT+CGSN`, `AT+CIMI`, `ATI`).
    public var takesBareLines: Bool
    public var finals: [ATFinalRule]
    /// From dispatch to the final result; the manuals' maximum response times.
    public var timeout: Duration
    /// Written when the `>` prompt arrives; nil when the command takes no payload.
    public var payload: [ArraySlice<UInt8>]?
    /// Identifies the command to its owner when it completes.
    public var tag: Tag

    public init(_ line: ATCommandLine, tag: Tag, timeout: Duration, infoPrefixes: [String] = [],
                takesBareLines: Bool = false, finals: [ATFinalRule] = ATFinalRule.standard,
                payload: [ArraySlice<UInt8>]? = nil) {
        self.line = line.bytes
        self.tag = tag
        self.timeout = timeout
        self.infoPrefixes = infoPrefixes
        self.takesBareLines = takesBareLines
        self.finals = finals
        self.payload = payload
    }

    public var text: String { String(decoding: self.line, as: UTF8.self) }
}
