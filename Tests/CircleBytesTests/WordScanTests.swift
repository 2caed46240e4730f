import CircleBytes
import CircleTestSupport
import Testing

/// Each word-at-a-time primitive against a plain byte loop, at every alignment (start 0...15) and every length
/// (0...40) within a buffer, on random bytes drawn mostly from the values at the edges of each byte class.
@Suite struct WordScanTests {
    static let edges: [UInt8] = [0x00, 0x01, 0x0A, 0x0D, 0x1F, 0x20, 0x21, 0x22, 0x26, 0x5C, 0x7E, 0x7F, 0x80, 0x81,
                                 0xBF, 0xC0, 0xFE, 0xFF, 0x41, 0x61]

    /// Random buffers of 64 bytes; each call hands `check` one buffer and every (start, length) window in it.
    func windows(seed: UInt64, rounds: Int = 300, _ check: (UnsafeRawBufferPointer, [UInt8], Int, Int) -> Void) {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<rounds {
            let bytes = (0..<64).map { _ in
                rng.next() % 3 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : Self.edges[Int(rng.next() % 20)]
            }
            bytes.withUnsafeBytes { raw in
                for start in 0..<16 {
                    for length in 0...40 { check(raw, bytes, start, length) }
                }
            }
        }
    }

    /// A word whose bytes are `bytes[at..<at+8]`.
    func word(_ raw: UnsafeRawBufferPointer, _ at: Int) -> UInt64 { WordScan.load(raw.baseAddress!, at: at) }

    /// A mask's meaning, by bytes: nil when zero, otherwise the byte its lowest set bit marks.
    func first(_ mask: UInt64) -> Int? { mask == 0 ? nil : WordScan.firstByte(mask) }

    @Test func loadPutsTheFirstByteLowest() {
        windows(seed: 1, rounds: 20) { raw, bytes, start, _ in
            let w = word(raw, start)
            for k in 0..<8 { #expect(UInt8(truncatingIfNeeded: w >> UInt64(8 * k)) == bytes[start + k]) }
        }
    }

    @Test func masksMarkExactlyTheFirstMatchingByte() {
        let thresholds: [UInt8] = [0x00, 0x01, 0x20, 0x21, 0x22, 0x5C, 0x7E, 0x7F, 0x80]
        windows(seed: 2, rounds: 60) { raw, bytes, start, length in
            guard length == 8 else { return }
            let w = word(raw, start), window = bytes[start..<(start + 8)]
            func index(_ p: (UInt8) -> Bool) -> Int? { window.firstIndex(where: p).map { $0 - start } }
            for n in thresholds {
                #expect(first(WordScan.equalMask(w, n)) == index { $0 == n })
                #expect(first(WordScan.belowMask(w, n)) == index { $0 < n })
                if n < 0x80 { #expect(first(WordScan.aboveMask(w, n)) == index { $0 > n }) }
            }
            #expect(first(WordScan.nonASCIIMask(w)) == index { $0 >= 0x80 })
        }
    }

    @Test func skipWordsStopsAtTheFirstMarkedByteOrTheTail() {
        windows(seed: 3) { raw, bytes, start, length in
            let end = start + length
            let found = WordScan.skipWords(raw, from: start, to: end) { WordScan.belowMask($0, 0x21) }
            let expected = bytes[start..<end].firstIndex { $0 < 0x21 }
            let tail = start + length / 8 * 8
            if let expected, expected < tail {
                #expect(found == expected)
            } else {
                #expect(found == tail)
            }
        }
    }

    @Test func firstIndexMatchesTheByteLoop() {
        windows(seed: 4) { raw, bytes, start, length in
            for target: UInt8 in [0x0A, 0x26, 0x80, 0xFF, 0x00] {
                #expect(WordScan.firstIndex(of: target, in: raw, from: start, to: start + length)
                        == bytes[start..<(start + length)].firstIndex(of: target))
            }
        }
    }

    @Test func wholeBufferPredicatesMatchTheByteLoop() {
        windows(seed: 5) { raw, bytes, start, length in
            let window = bytes[start..<(start + length)]
            let sub = UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)])
            #expect(WordScan.isASCII(sub) == window.allSatisfy { $0 < 0x80 })
            #expect(WordScan.allBytes(sub, in: 0x21, 0x7E) == window.allSatisfy { $0 >= 0x21 && $0 <= 0x7E })
            #expect(WordScan.allBytes(sub, in: 0x00, 0x7F) == window.allSatisfy { $0 <= 0x7F })
        }
        // Runs long enough to take whole words, with and without one byte out of class at each position.
        for length in 0...40 {
            for bad in -1..<length {
                var bytes = [UInt8](repeating: 0x61, count: length)
                if bad >= 0 { bytes[bad] = 0x80 }
                bytes.withUnsafeBytes { raw in
                    #expect(WordScan.isASCII(raw) == (bad < 0))
                    #expect(WordScan.allBytes(raw, in: 0x21, 0x7E) == (bad < 0))
                }
            }
        }
    }

    @Test func equalMatchesTheByteLoop() {
        windows(seed: 6, rounds: 100) { raw, bytes, start, length in
            guard let base = raw.baseAddress else { return }
            // Against itself shifted by 0 (always equal) and against a copy with one byte changed.
            #expect(WordScan.equal(base + start, base + start, count: length))
            var other = bytes
            if length > 0 { other[start + length - 1 - (start % max(length, 1))] ^= 0x40 }
            other.withUnsafeBytes { o in
                #expect(WordScan.equal(base + start, o.baseAddress! + start, count: length)
                        == (bytes[start..<(start + length)] == other[start..<(start + length)]))
            }
            #expect(WordScan.equal(base + start, base + 16, count: length)
                    == (bytes[start..<(start + length)] == bytes[16..<(16 + length)]))
        }
    }

    @Test func xorMatchesTheByteLoopInPlaceAndCopied() {
        var rng = SplitMix64(seed: 7)
        windows(seed: 8, rounds: 40) { raw, bytes, start, length in
            let pattern = rng.next()
            let expected = (0..<length).map { i in
                bytes[start + i] ^ UInt8(truncatingIfNeeded: pattern >> UInt64(8 * (i % 8)))
            }
            var copy = [UInt8](repeating: 0, count: length + 16)
            copy.withUnsafeMutableBytes { out in
                WordScan.xor(UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)]), pattern: pattern,
                             into: out.baseAddress! + 3)
            }
            #expect(Array(copy[3..<(3 + length)]) == expected)
            #expect(copy[..<3].allSatisfy { $0 == 0 } && copy[(3 + length)...].allSatisfy { $0 == 0 })
            var inPlace = bytes
            inPlace.withUnsafeMutableBytes { m in
                let at = m.baseAddress! + start
                WordScan.xor(UnsafeRawBufferPointer(start: at, count: length), pattern: pattern, into: at)
            }
            #expect(Array(inPlace[start..<(start + length)]) == expected)
        }
    }

    @Test func appendBytesAppendsEveryByte() {
        windows(seed: 9, rounds: 10) { raw, bytes, start, length in
            var out: [UInt8] = [7]
            out.appendBytes(UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)]))
            #expect(out == [7] + bytes[start..<(start + length)])
        }
    }
}

/// The one UTF-8 sequence check against the standard library's decoder, and the control characters against the
/// Unicode general categories.
@Suite struct SequenceAndControlTests {
    @Test func sequenceLengthMatchesTheStandardDecoder() {
        var rng = SplitMix64(seed: 10)
        let pieces: [UInt8] = [0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED,
                               0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF, 0x41]
        for _ in 0..<200_000 {
            let bytes = (0..<Int(1 + rng.next() % 5)).map { k in
                k == 0 ? pieces[Int(rng.next() % 22)] : rng.next() % 4 == 0
                    ? UInt8(truncatingIfNeeded: rng.next()) : pieces[Int(rng.next() % 23)]
            }
            var decoder = UTF8()
            var iterator = bytes.makeIterator()
            var expected = 0
            if case .scalarValue(let s) = decoder.decode(&iterator) { expected = UTF8.width(s) }
            let found = bytes.withUnsafeBytes { Utf8Validator.sequenceLength($0, at: 0) }
            #expect(found == expected, "\(bytes)")
        }
    }

    @Test func controlCharactersAreTheControlAndSeparatorCategories() {
        for value in 0...0x10FFFF {
            guard let c = Unicode.Scalar(value) else { continue }
            let category = c.properties.generalCategory
            let expected = category == .control || category == .lineSeparator || category == .paragraphSeparator
            if ControlCharacters.contains(c) != expected { Issue.record("U+\(String(value, radix: 16))") }
        }
        #expect(ControlCharacters.occur(in: "ann\u{2028}x"))
        #expect(ControlCharacters.occur(in: "\u{85}"))
        #expect(!ControlCharacters.occur(in: "Ann Évé 𝄞"))
    }
}
