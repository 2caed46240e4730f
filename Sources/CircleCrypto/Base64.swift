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
        Array(text).withUnsafeBytes { text in unpadded(text).flatMap { decode($0, table: decodeStd) } }
    }

    /// Decodes base64url without padding (padding is rejected, as JWT requires).
    public static func decodeURL<C: Collection>(_ text: C) -> [UInt8]? where C.Element == UInt8 {
        Array(text).withUnsafeBytes { decode($0, table: decodeURL) }
    }

    /// The number of bytes ``decode(_:)`` returns for `text`, or nil exactly when it returns nil; decodes into
    /// nothing and allocates nothing (for checking a `Sec-WebSocket-Key`).
    public static func decodedCount(_ text: UnsafeRawBufferPointer) -> Int? {
        unpadded(text).flatMap { decodedCount($0, table: decodeStd) }
    }

    /// Decodes base64url without padding into `out`, exactly as ``decodeURL(_:)`` does, and returns the number of
    /// bytes written, or nil exactly when `decodeURL` returns nil. `out` must hold `text.count * 3 / 4` bytes.
    public static func decodeURL(_ text: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int? {
        guard let count = decodedCount(text, table: decodeURL) else { return nil }
        precondition(out.count >= count, "Base64.decodeURL: output buffer too small")
        return decodeValidated(text, table: decodeURL, into: out)
    }

    /// Standard-alphabet text without its `=` padding (at most two), or nil when its length is not a multiple of 4.
    private static func unpadded(_ text: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard text.count % 4 == 0 else { return nil }
        var n = text.count
        var padding = 0
        while n > 0 && text[n - 1] == UInt8(ascii: "=") && padding < 2 { n -= 1; padding += 1 }
        return UnsafeRawBufferPointer(rebasing: text[0..<n])
    }

    /// Decodes unpadded symbols into a new array, or nil on bad input.
    private static func decode(_ text: UnsafeRawBufferPointer, table: [Int8]) -> [UInt8]? {
        guard let count = decodedCount(text, table: table) else { return nil }
        return [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
            initialized = decodeValidated(text, table: table, into: UnsafeMutableRawBufferPointer(out))
        }
    }

    /// Decodes symbols that ``decodedCount(_:table:)`` accepted into `out` (room for that count) and returns the
    /// number of bytes written: the one decoder behind every public entry.
    private static func decodeValidated(_ text: UnsafeRawBufferPointer, table symbols: [Int8],
                                        into out: UnsafeMutableRawBufferPointer) -> Int {
        symbols.withUnsafeBufferPointer { table in
            var o = 0
            var i = 0
            while i + 4 <= text.count {
                let v = UInt32(table[Int(text[i])]) << 18 | UInt32(table[Int(text[i + 1])]) << 12
                    | UInt32(table[Int(text[i + 2])]) << 6 | UInt32(table[Int(text[i + 3])])
                out[o] = UInt8(truncatingIfNeeded: v >> 16)
                out[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                out[o + 2] = UInt8(truncatingIfNeeded: v)
                o += 3
                i += 4
            }
            let rest = text.count - i
            if rest >= 2 {
                let v = UInt32(table[Int(text[i])]) << 18 | UInt32(table[Int(text[i + 1])]) << 12
                    | (rest == 3 ? UInt32(table[Int(text[i + 2])]) << 6 : 0)
                out[o] = UInt8(truncatingIfNeeded: v >> 16)
                o += 1
                if rest == 3 {
                    out[o] = UInt8(truncatingIfNeeded: v >> 8)
                    o += 1
                }
            }
            return o
        }
    }

    /// Validates unpadded symbols — every symbol in the alphabet, not one symbol past a whole group, zero trailing
    /// bits (canonical form only) — and returns how many bytes they decode to.
    private static func decodedCount(_ a: UnsafeRawBufferPointer, table: [Int8]) -> Int? {
        if a.count % 4 == 1 { return nil }
        return table.withUnsafeBufferPointer { t -> Int? in
            for c in a where t[Int(c)] < 0 { return nil }
            if let last = a.last {
                let trailingBits: Int8 = switch a.count % 4 { case 2: 0x0F; case 3: 0x03; default: 0 }
                if t[Int(last)] & trailingBits != 0 { return nil }
            }
            return a.count * 3 / 4
        }
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
}
