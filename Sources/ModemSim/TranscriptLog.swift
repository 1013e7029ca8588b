import Buffers

/// `--transcript FILE`: every byte each way, one chunk per line, with its time since start-up
/// and direction, non-printing bytes escaped (`\r`, `\n`, `\xNN`, `\\`).
///
///     0.012345 host> AT+QIACT=1\r
///     0.012400 modem< \r\nOK\r\n
public struct TranscriptFormat {
    public static func line(at time: Duration, host: Bool, _ bytes: some Sequence<UInt8>) -> String {
        let ns = time.nanoseconds
        let seconds = ns / 1_000_000_000
        let micros = (ns % 1_000_000_000) / 1000
        var micro = String(micros)
        while micro.count < 6 { micro = "0" + micro }
        return "\(seconds).\(micro) \(host ? "host>" : "modem<") \(escape(bytes))\n"
    }

    public static func escape(_ bytes: some Sequence<UInt8>) -> String {
        var s = ""
        for b in bytes {
            switch b {
            case 0x0D: s += "\\r"
            case 0x0A: s += "\\n"
            case 0x5C: s += "\\\\"
            case 0x20...0x7E: s.unicodeScalars.append(UnicodeScalar(b))
            default: s += "\\x" + Hex.encodeString([b])
            }
        }
        return s
    }
}
