/// Word-at-a-time byte classification (SWAR: SIMD within a register) for the string scanning loops.
///
/// Each test is exact: it is true if and only if at least one of the eight bytes of the word matches, whatever the
/// other bytes hold (see "Determine if a word has a byte less than n" in Bit Twiddling Hacks).
enum ByteScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The high bit of each byte of `word` below 0x20, `"` or `\` (the bytes a JSON string cannot hold raw),
    /// possibly with false positives above a true one; zero exactly when there is none.
    @inline(__always)
    private static func escapeMask(_ word: UInt64) -> UInt64 {
        let quotes = word ^ (ones &* 0x22), backslashes = word ^ (ones &* 0x5C)
        let below20 = (word &- ones &* 0x20) & ~word
        let quote = (quotes &- ones) & ~quotes
        let backslash = (backslashes &- ones) & ~backslashes
        return (below20 | quote | backslash) & highs
    }

    /// Whether any byte of `word` is below 0x20, `"` or `\`: the bytes a JSON string cannot hold raw.
    @inline(__always)
    static func needsEscape(_ word: UInt64) -> Bool { escapeMask(word) != 0 }

    /// Whether none of `bytes` needs escaping in a JSON string (non-ASCII bytes need none).
    @inline(__always)
    static func needsNoEscape(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var i = 0
        while i + 8 <= bytes.count {
            if needsEscape(base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { return false }
            i += 8
        }
        while i < bytes.count {
            let byte = bytes[i]
            if byte < 0x20 || byte == Byte.quote || byte == Byte.backslash { return false }
            i += 1
        }
        return true
    }

    /// The high bit of each byte of `word` that needs escaping or is not ASCII, possibly with false positives — but
    /// only above a true one, so the lowest set bit (if any) marks exactly the first byte that needs attention (a
    /// borrow in the subtractions only propagates upward from a byte that really matched).
    @inline(__always)
    static func attentionMask(_ word: UInt64) -> UInt64 { escapeMask(word) | word & highs }

    /// The first index in `from..<to` of a byte that may need attention, skipping whole words of plain ASCII: within
    /// whole words the result is exactly the first byte that needs escaping or is not ASCII; the result is `to`
    /// only if everything before it is plain, otherwise at most 7 bytes short of it (the bytes of a last partial
    /// word are left to the caller).
    @inline(__always)
    static func skipPlainASCII(_ bytes: UnsafeRawBufferPointer, from: Int, to end: Int) -> Int {
        guard let base = bytes.baseAddress else { return from }
        var i = from
        while i + 8 <= end {
            let mask = attentionMask(base.loadUnaligned(fromByteOffset: i, as: UInt64.self).littleEndian)
            if mask != 0 { return i + mask.trailingZeroBitCount >> 3 }
            i += 8
        }
        return i
    }
}

extension Array where Element == UInt8 {
    /// Appends raw bytes with one copy (the generic `append(contentsOf:)` walks a raw buffer byte by byte).
    @inline(__always)
    mutating func appendBytes(_ raw: UnsafeRawBufferPointer) {
        guard let base = raw.baseAddress, !raw.isEmpty else { return }
        append(contentsOf: UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: raw.count))
    }
}
