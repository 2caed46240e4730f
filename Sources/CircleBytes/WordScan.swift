/// Word-at-a-time byte scans (SWAR: eight bytes in one `UInt64`), the one copy the HTTP, WebSocket and JSON
/// codecs share.
///
/// A word is loaded little-endian, so byte `k` of the input is bits `8k..<8k+8` on every host. Each mask holds the
/// high bit of every byte that matches; it is zero exactly when no byte matches, and its lowest set bit marks exactly
/// the first match (a borrow or carry only spreads upward from a byte that really matched, so false positives sit
/// only above a true one). See "Determine if a word has a byte equal to / less than / greater than n" in Bit
/// Twiddling Hacks.
public enum WordScan {
    /// 0x01 in every byte. (Computed, so other modules inline the constant rather than call a global's accessor.)
    @inlinable @inline(__always)
    public static var ones: UInt64 { 0x0101_0101_0101_0101 }
    /// 0x80 in every byte.
    @inlinable @inline(__always)
    public static var highs: UInt64 { 0x8080_8080_8080_8080 }

    /// The eight bytes at `offset` (no alignment needed), byte `k` in bits `8k..<8k+8`.
    @inlinable @inline(__always)
    public static func load(_ base: UnsafeRawPointer, at offset: Int) -> UInt64 {
        UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// `byte` in every byte of a word.
    @inlinable @inline(__always)
    public static func broadcast(_ byte: UInt8) -> UInt64 { ones &* UInt64(byte) }

    /// The bytes of `word` equal to `byte`.
    @inlinable @inline(__always)
    public static func equalMask(_ word: UInt64, _ byte: UInt8) -> UInt64 {
        let x = word ^ broadcast(byte)
        return (x &- ones) & ~x & highs
    }

    /// The bytes of `word` below `n`; `n` must be at most 0x80.
    @inlinable @inline(__always)
    public static func belowMask(_ word: UInt64, _ n: UInt8) -> UInt64 {
        (word &- broadcast(n)) & ~word & highs
    }

    /// The bytes of `word` above `n`; `n` must be below 0x80.
    @inlinable @inline(__always)
    public static func aboveMask(_ word: UInt64, _ n: UInt8) -> UInt64 {
        ((word &+ broadcast(0x7F &- n)) | word) & highs
    }

    /// The bytes of `word` at or above 0x80 (not ASCII).
    @inlinable @inline(__always)
    public static func nonASCIIMask(_ word: UInt64) -> UInt64 { word & highs }

    /// The offset within the word (0...7) of the first byte a non-zero mask marks.
    @inlinable @inline(__always)
    public static func firstByte(_ mask: UInt64) -> Int { mask.trailingZeroBitCount >> 3 }

    /// Skips whole words in `from..<to` where `mask` marks no byte: returns the first marked byte if a whole word
    /// holds one, otherwise where fewer than eight bytes remain (those are the caller's to check).
    @inlinable @inline(__always)
    public static func skipWords(
        _ bytes: UnsafeRawBufferPointer, from: Int, to end: Int, mask: (UInt64) -> UInt64
    ) -> Int {
        guard let base = bytes.baseAddress else { return from }
        var i = from
        while i + 8 <= end {
            let m = mask(load(base, at: i))
            if m != 0 { return i + firstByte(m) }
            i += 8
        }
        return i
    }

    /// The first index of `byte` in `bytes[from..<to]`, or nil.
    @inlinable
    public static func firstIndex(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from: Int, to end: Int) -> Int? {
        var i = skipWords(bytes, from: from, to: end) { equalMask($0, byte) }
        while i < end {
            if bytes[i] == byte { return i }
            i += 1
        }
        return nil
    }

    /// Whether every byte is below 0x80.
    @inlinable
    public static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = skipWords(bytes, from: 0, to: bytes.count, mask: nonASCIIMask)
        while i < bytes.count {
            if bytes[i] >= 0x80 { return false }
            i += 1
        }
        return true
    }

    /// Whether every byte lies in `low...high`, an ASCII range (`high` below 0x80).
    @inlinable
    public static func allBytes(_ bytes: UnsafeRawBufferPointer, in low: UInt8, _ high: UInt8) -> Bool {
        var i = skipWords(bytes, from: 0, to: bytes.count) { belowMask($0, low) | aboveMask($0, high) }
        while i < bytes.count {
            guard bytes[i] >= low && bytes[i] <= high else { return false }
            i += 1
        }
        return true
    }

    /// Whether the `count` bytes at `a` and at `b` are equal.
    @inlinable
    public static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Bool {
        var i = 0
        while i + 8 <= count {
            if load(a, at: i) != load(b, at: i) { return false }
            i += 8
        }
        while i < count {
            if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
            i += 1
        }
        return true
    }

    /// Writes `source` XOR a repeating eight-byte `pattern` (byte `k` of the pattern in bits `8k..<8k+8`) into
    /// `destination`, which may be the same memory; byte `i` is XORed with pattern byte `i % 8`.
    @inlinable
    public static func xor(
        _ source: UnsafeRawBufferPointer, pattern: UInt64, into destination: UnsafeMutableRawPointer
    ) {
        guard let src = source.baseAddress else { return }
        let n = source.count
        var i = 0
        while i + 8 <= n {
            destination.storeBytes(of: (load(src, at: i) ^ pattern).littleEndian, toByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < n {
            let p = UInt8(truncatingIfNeeded: pattern >> UInt64((i & 7) << 3))
            let byte = src.load(fromByteOffset: i, as: UInt8.self)
            destination.storeBytes(of: byte ^ p, toByteOffset: i, as: UInt8.self)
            i += 1
        }
    }
}

extension Array where Element == UInt8 {
    /// Appends raw bytes with one copy (the generic `append(contentsOf:)` walks a raw buffer byte by byte).
    @inlinable @inline(__always)
    public mutating func appendBytes(_ raw: UnsafeRawBufferPointer) {
        guard let base = raw.baseAddress, !raw.isEmpty else { return }
        append(contentsOf: UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: raw.count))
    }
}
