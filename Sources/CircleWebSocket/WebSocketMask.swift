import CircleBytes

/// XOR masking of payload bytes (RFC 6455 §5.3), eight bytes at a time.
///
/// A key is kept as a `UInt32` whose in-memory bytes are the four key bytes in wire order, so the code is
/// independent of the host's byte order.
enum WebSocketMask {
    /// The key whose wire bytes are `k`.
    static func key(_ k: (UInt8, UInt8, UInt8, UInt8)) -> UInt32 {
        var key: UInt32 = 0
        withUnsafeMutableBytes(of: &key) { p in
            p[0] = k.0; p[1] = k.1; p[2] = k.2; p[3] = k.3
        }
        return key
    }

    /// Key byte `i` (0...3).
    @inline(__always)
    static func byte(_ key: UInt32, _ i: Int) -> UInt8 {
        withUnsafeBytes(of: key) { $0[i & 3] }
    }

    /// Writes `source` XOR the key into `destination` (which may be the same memory, for in-place use).
    /// `offset` is the position of `source[0]` within the frame payload, so masking can resume mid-frame.
    static func apply(
        key: UInt32, offset: Int, from source: UnsafeRawBufferPointer, to destination: UnsafeMutableRawPointer
    ) {
        guard source.count >= 8 else {
            // Short runs (a header's worth, or one byte per read) skip building the word.
            for i in 0..<source.count {
                destination.storeBytes(of: source[i] ^ byte(key, offset + i), toByteOffset: i, as: UInt8.self)
            }
            return
        }
        // The key repeated twice, starting at key byte `offset % 4`.
        var pattern: UInt64 = 0
        for j in 0..<8 { pattern |= UInt64(byte(key, offset + j)) << UInt64(j << 3) }
        WordScan.xor(source, pattern: pattern, into: destination)
    }

    /// Masks `buffer[range]` in place; `offset` is the payload position of `buffer[range.lowerBound]`.
    static func applyInPlace(key: UInt32, offset: Int, _ buffer: UnsafeMutableRawBufferPointer, _ range: Range<Int>) {
        guard let base = buffer.baseAddress, !range.isEmpty else { return }
        let start = base + range.lowerBound
        apply(key: key, offset: offset, from: UnsafeRawBufferPointer(start: start, count: range.count), to: start)
    }
}
