/// Base64 (RFC 4648 §4) and base64url (§5) without Foundation.
public enum Base64 {
    private static let std: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let url: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let decodeStd: [Int8] = table(std)
    private static let decodeURL: [Int8] = table(url)

    private static func table(_ alphabet: [UInt8]) -> [Int8] {
        var t = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = Int8(i) }
        return t
    }

    /// Standard alphabet with `=` padding.
    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        String(decoding: encode(Array(bytes), alphabet: std, pad: true), as: UTF8.self)
    }

    /// URL-safe alphabet, no padding (as JWT uses it).
    public static func encodeURL<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        String(decoding: encode(Array(bytes), alphabet: url, pad: false), as: UTF8.self)
    }

    /// Decodes the standard alphabet; padding required to a multiple of 4. Returns nil on any bad input.
    public static func decode<C: Collection>(_ text: C) -> [UInt8]? where C.Element == UInt8 {
        let a = Array(text)
        guard a.count % 4 == 0 else { return nil }
        var n = a.count
        var padding = 0
        while n > 0 && a[n - 1] == UInt8(ascii: "=") && padding < 2 { n -= 1; padding += 1 }
        if padding > 0 && (n + padding) % 4 != 0 { return nil }
        return decode(a[0..<n], table: decodeStd)
    }

    /// Decodes base64url without padding (padding is rejected, as JWT requires).
    public static func decodeURL<C: Collection>(_ text: C) -> [UInt8]? where C.Element == UInt8 {
        decode(Array(text)[...], table: decodeURL)
    }

    private static func encode(_ b: [UInt8], alphabet: [UInt8], pad: Bool) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity((b.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= b.count {
            let v = UInt32(b[i]) << 16 | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2])
            out.append(alphabet[Int(v >> 18 & 63)]); out.append(alphabet[Int(v >> 12 & 63)])
            out.append(alphabet[Int(v >> 6 & 63)]); out.append(alphabet[Int(v & 63)])
            i += 3
        }
        let rest = b.count - i
        if rest == 1 {
            let v = UInt32(b[i]) << 16
            out.append(alphabet[Int(v >> 18 & 63)]); out.append(alphabet[Int(v >> 12 & 63)])
            if pad { out.append(UInt8(ascii: "=")); out.append(UInt8(ascii: "=")) }
        } else if rest == 2 {
            let v = UInt32(b[i]) << 16 | UInt32(b[i + 1]) << 8
            out.append(alphabet[Int(v >> 18 & 63)]); out.append(alphabet[Int(v >> 12 & 63)])
            out.append(alphabet[Int(v >> 6 & 63)])
            if pad { out.append(UInt8(ascii: "=")) }
        }
        return out
    }

    /// Decodes unpadded symbols; rejects a lone trailing symbol and non-zero trailing bits (canonical form only).
    private static func decode(_ a: ArraySlice<UInt8>, table: [Int8]) -> [UInt8]? {
        if a.count % 4 == 1 { return nil }
        var out = [UInt8]()
        out.reserveCapacity(a.count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        for c in a {
            let v = table[Int(c)]
            if v < 0 { return nil }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
                acc &= (1 << UInt32(bits)) - 1
            }
        }
        if acc != 0 { return nil }
        return out
    }
}
