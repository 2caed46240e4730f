// CircleBytes against plain byte loops and the standard library: every word-at-a-time scan at every alignment of
// the input (start 0...7) and every end; the UTF-8 validator whole and split, and its one-sequence check at every
// non-ASCII byte; the control-character set against the Unicode general categories.
import CircleBytes

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: count)
    let bytes = Array(input)
    let seed = fnv1a(input)
    // Windows end at each of the first 24 bytes and the last 17: every length modulo 8 from every start.
    let ends = Set(Array(0...min(count, 24)) + Array(max(0, count - 16)...count)).sorted()
    for start in 0..<min(8, count + 1) {
        for end in ends where end >= start { checkScans(input, bytes, start, end, seed) }
    }
    checkValidator(input, splits(count: count, seed: seed))
    checkSequences(input, bytes)
    checkControls(input)
    return 0
}

/// Every primitive on `bytes[start..<end]` against the byte loop it stands for.
func checkScans(_ input: UnsafeRawBufferPointer, _ bytes: [UInt8], _ start: Int, _ end: Int, _ seed: UInt64) {
    let window = bytes[start..<end]
    let sub = UnsafeRawBufferPointer(rebasing: input[start..<end])
    let targets: [UInt8] = [bytes.first ?? 0, 0x0A, 0x22, 0x80]
    for target in targets {
        require(WordScan.firstIndex(of: target, in: input, from: start, to: end) == window.firstIndex(of: target),
                "firstIndex(of: \(target)) from \(start) to \(end)")
    }
    require(WordScan.isASCII(sub) == window.allSatisfy { $0 < 0x80 }, "isASCII from \(start) to \(end)")
    require(WordScan.allBytes(sub, in: 0x21, 0x7E) == window.allSatisfy { $0 > 0x20 && $0 < 0x7F },
            "allBytes(0x21...0x7E) from \(start) to \(end)")
    // skipWords with the JSON string mask: the first byte below 0x20, `"`, `\` or non-ASCII within whole words.
    let skipped = WordScan.skipWords(input, from: start, to: end) { w in
        WordScan.belowMask(w, 0x20) | WordScan.equalMask(w, 0x22) | WordScan.equalMask(w, 0x5C)
            | WordScan.nonASCIIMask(w) | WordScan.aboveMask(w, 0x7E)
    }
    let tail = start + (end - start) / 8 * 8
    let first = window.firstIndex { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 > 0x7E }
    require(skipped == (first.map { $0 < tail ? $0 : tail } ?? tail), "skipWords from \(start) to \(end)")
    if let base = input.baseAddress {
        let other = bytes.count - (end - start)
        require(WordScan.equal(base + start, base + other, count: end - start) == (window == bytes[other...]),
                "equal from \(start) and \(other)")
    }
    // XOR into a copy gives the byte loop's answer; XOR again in place gives the input back.
    let pattern = seed &+ UInt64(start)
    var out = [UInt8](repeating: 0, count: end - start)
    out.withUnsafeMutableBytes { WordScan.xor(sub, pattern: pattern, into: $0.baseAddress!) }
    let expected = window.enumerated().map { i, b in b ^ UInt8(truncatingIfNeeded: pattern >> UInt64(8 * (i % 8))) }
    require(out == expected, "xor from \(start) to \(end)")
    out.withUnsafeMutableBytes { m in
        WordScan.xor(UnsafeRawBufferPointer(m), pattern: pattern, into: m.baseAddress!)
    }
    require(out[...] == window, "xor twice in place from \(start) to \(end)")
}

/// At every non-ASCII byte, the one-sequence check against the standard library's decoder.
func checkSequences(_ input: UnsafeRawBufferPointer, _ bytes: [UInt8]) {
    for i in bytes.indices where bytes[i] >= 0x80 {
        var decoder = UTF8()
        var iterator = bytes[i...].makeIterator()
        var expected = 0
        if case .scalarValue(let s) = decoder.decode(&iterator) { expected = UTF8.width(s) }
        require(Utf8Validator.sequenceLength(input, at: i) == expected, "sequenceLength at \(i)")
    }
}

/// The input's scalars (invalid UTF-8 repaired) against the general categories Cc, Zl and Zp.
func checkControls(_ input: UnsafeRawBufferPointer) {
    let text = String(decoding: input, as: UTF8.self)
    var any = false
    for c in text.unicodeScalars {
        let category = c.properties.generalCategory
        let expected = category == .control || category == .lineSeparator || category == .paragraphSeparator
        require(ControlCharacters.contains(c) == expected, "control U+\(String(c.value, radix: 16))")
        any = any || expected
    }
    require(ControlCharacters.occur(in: text) == any, "occur(in:) differs from the scalars")
}

/// The incremental validator, fed the raw input at every split, against the standard library.
func checkValidator(_ input: UnsafeRawBufferPointer, _ plans: [[Int]]) {
    let valid = String(validating: input, as: UTF8.self) != nil
    require(Utf8Validator.isValid(input) == valid, "Utf8Validator says \(!valid) for the whole input")
    for plan in plans.dropFirst() {
        var validator = Utf8Validator()
        var start = 0
        var stillValid = true
        for end in plan {
            let chunk = UnsafeRawBufferPointer(rebasing: input[start..<end])
            stillValid = validator.feed(chunk) && stillValid
            require(stillValid == !validator.isInvalid, "feed and isInvalid disagree")
            start = end
        }
        require(validator.isComplete == valid, "Utf8Validator differs when split")
    }
}
