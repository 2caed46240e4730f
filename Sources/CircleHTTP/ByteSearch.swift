/// Word-at-a-time byte scans (SWAR: eight bytes per step) for the head parser and the query scanner.
///
/// Each word test is exact about whether some byte of the word matches ("Determine if a word has a byte
/// equal to / less than / greater than n", Bit Twiddling Hacks); the byte that matches is then found byte by byte.
enum ByteSearch {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    @inline(__always)
    private static func hasZeroByte(_ x: UInt64) -> Bool { (x &- ones) & ~x & highs != 0 }

    /// The first index of `byte` in `bytes[from..<to]`, or nil.
    static func firstIndex(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from: Int, to end: Int) -> Int? {
        var i = from
        if let base = bytes.baseAddress {
            let pattern = ones &* UInt64(byte)
            while i + 8 <= end, !hasZeroByte(base.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ pattern) { i += 8 }
        }
        while i < end {
            if bytes[i] == byte { return i }
            i += 1
        }
        return nil
    }

    /// Whether every byte is below 0x80.
    static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        if let base = bytes.baseAddress {
            while i + 8 <= bytes.count {
                if base.loadUnaligned(fromByteOffset: i, as: UInt64.self) & highs != 0 { return false }
                i += 8
            }
        }
        while i < bytes.count {
            if bytes[i] >= 0x80 { return false }
            i += 1
        }
        return true
    }

    /// Whether every byte is visible ASCII, 0x21...0x7E (a request target's bytes).
    static func isVisibleASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        if let base = bytes.baseAddress {
            while i + 8 <= bytes.count {
                let x = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                let below21 = (x &- ones &* 0x21) & ~x & highs
                let above7E = ((x &+ ones &* (127 - 0x7E)) | x) & highs
                if below21 | above7E != 0 { return false }
                i += 8
            }
        }
        while i < bytes.count {
            guard bytes[i] > 0x20 && bytes[i] < 0x7F else { return false }
            i += 1
        }
        return true
    }
}
