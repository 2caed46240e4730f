import CircleBytes

/// JSON's byte classes a word at a time, on CircleBytes' masks: the bytes a string cannot hold raw (below 0x20, `"`
/// and `\`), and those plus non-ASCII bytes, which the parser must look at one by one.
enum ByteScan {
    /// The high bit of each byte of `word` that needs escaping in a JSON string (first match exact).
    @inline(__always)
    static func escapeMask(_ word: UInt64) -> UInt64 {
        WordScan.belowMask(word, 0x20) | WordScan.equalMask(word, Byte.quote)
            | WordScan.equalMask(word, Byte.backslash)
    }

    /// The high bit of each byte of `word` that needs escaping or is not ASCII (first match exact).
    @inline(__always)
    static func attentionMask(_ word: UInt64) -> UInt64 { escapeMask(word) | WordScan.nonASCIIMask(word) }

    /// Whether none of `bytes` needs escaping in a JSON string (non-ASCII bytes need none).
    @inline(__always)
    static func needsNoEscape(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = WordScan.skipWords(bytes, from: 0, to: bytes.count, mask: escapeMask)
        while i < bytes.count {
            let byte = bytes[i]
            if byte < 0x20 || byte == Byte.quote || byte == Byte.backslash { return false }
            i += 1
        }
        return true
    }

    /// The first index in `from..<to` of a byte that needs escaping or is not ASCII, found a word at a time; if
    /// whole words hold none, where fewer than eight bytes remain (the caller checks those one by one).
    @inline(__always)
    static func skipPlainASCII(_ bytes: UnsafeRawBufferPointer, from: Int, to end: Int) -> Int {
        WordScan.skipWords(bytes, from: from, to: end, mask: attentionMask)
    }
}
