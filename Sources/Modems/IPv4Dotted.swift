/// Dotted-decimal IPv4 text ("10.7.89.10"), the only peer form Quectel's UDP SERVICE send
/// takes (EC §2.4.10 `<remoteIP>`: "必须是点分十进制格式"). Checked before it goes on a
/// command line, so a host name or an IPv6 address is refused by the driver, not the modem.
enum IPv4Dotted {
    static func isValid(_ text: String) -> Bool {
        let parts = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
            var value = 0
            for digit in part { value = value * 10 + Int(digit - 0x30) }
            guard value <= 255 else { return false }
        }
        return true
    }
}
