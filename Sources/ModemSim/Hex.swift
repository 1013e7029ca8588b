/// ASCII hex as the manuals' "hex string" data formats use it: two characters per byte, no
/// `0x` prefix (quectel.md §4.5), either case accepted, upper case produced.
enum Hex {
    static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return out
    }

    static func encodeString<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        String(decoding: encode(bytes), as: UTF8.self)
    }

    /// nil for an odd length or a non-hex character.
    static func decode<Chars: Collection<UInt8>>(_ chars: Chars) -> [UInt8]? {
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var high: UInt8? = nil
        for c in chars {
            guard let v = value(c) else { return nil }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        return out
    }

    private static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }
}
