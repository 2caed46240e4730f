extension JSONParser {
    /// Parses a string; `pos` is at the opening quote.
    ///
    /// The fast path scans a string without escapes once (eight bytes at a time through plain ASCII, validating
    /// UTF-8 and rejecting control characters) and copies it straight out of the input; a string with escapes
    /// continues in `parseEscapedString`.
    mutating func parseString() throws(JSONError) -> String {
        let open = pos
        let count = input.count
        // The closing quote of a string within the byte limit sits before `scanEnd`.
        let scanEnd = limits.maxStringBytes < count ? min(count, open + 2 + limits.maxStringBytes) : count
        var i = open + 1
        while i < scanEnd {
            i = ByteScan.skipPlainASCII(input, from: i, to: scanEnd)
            guard i < scanEnd else { break }
            let byte = input[i]
            if byte == Byte.quote {
                pos = i + 1
                return string(input, (open + 1)..<i)
            }
            if byte == Byte.backslash { return try parseEscapedString(open: open, escapeAt: i) }
            if byte < 0x20 { throw fail("control character in string", at: i) }
            i += byte < 0x80 ? 1 : try utf8SequenceLength(at: i)
        }
        if i >= count { throw fail("unterminated string", at: count) }
        throw fail("string too long", at: open)
    }

    /// Continues a string from its first escape at `escapeAt`, unescaping into `scratch`.
    private mutating func parseEscapedString(open: Int, escapeAt: Int) throws(JSONError) -> String {
        scratch.removeAll(keepingCapacity: true)
        if scratch.capacity == 0 {
            // Usually the one allocation for all escaped strings of a document; longer strings grow it.
            scratch.reserveCapacity(min(input.count - open, 1024))
        }
        scratch.appendBytes(UnsafeRawBufferPointer(rebasing: input[(open + 1)..<escapeAt]))
        let count = input.count
        var i = escapeAt
        while i < count {
            // Copy a run of plain ASCII at once, never past the byte limit by more than a word.
            let room = limits.maxStringBytes - scratch.count
            let runEnd = ByteScan.skipPlainASCII(input, from: i, to: room < count - i ? i + room + 1 : count)
            if runEnd > i {
                scratch.appendBytes(UnsafeRawBufferPointer(rebasing: input[i..<runEnd]))
                i = runEnd
                if scratch.count > limits.maxStringBytes { throw fail("string too long", at: open) }
                continue
            }
            let byte = input[i]
            if byte == Byte.quote {
                pos = i + 1
                return scratch.withUnsafeBytes { string($0, 0..<$0.count) }
            } else if byte == Byte.backslash {
                i += try unescape(at: i)
            } else if byte < 0x20 {
                throw fail("control character in string", at: i)
            } else if byte < 0x80 {
                scratch.append(byte)
                i += 1
            } else {
                let length = try utf8SequenceLength(at: i)
                scratch.appendBytes(UnsafeRawBufferPointer(rebasing: input[i..<(i + length)]))
                i += length
            }
            if scratch.count > limits.maxStringBytes { throw fail("string too long", at: open) }
        }
        throw fail("unterminated string", at: count)
    }

    /// Appends the character escaped at `i` (a backslash) to `scratch`; returns the escape's length in bytes.
    private mutating func unescape(at i: Int) throws(JSONError) -> Int {
        guard i + 1 < input.count else { throw fail("unterminated string", at: input.count) }
        let replacement: UInt8
        switch input[i + 1] {
        case Byte.quote: replacement = Byte.quote
        case Byte.backslash: replacement = Byte.backslash
        case Byte.slash: replacement = Byte.slash
        case Byte.b: replacement = Byte.backspace
        case Byte.f: replacement = Byte.formFeed
        case Byte.n: replacement = Byte.newline
        case Byte.r: replacement = Byte.carriageReturn
        case Byte.t: replacement = Byte.tab
        case Byte.u: return try unescapeUnicode(at: i)
        default: throw fail("invalid escape", at: i)
        }
        scratch.append(replacement)
        return 2
    }

    /// Appends the scalar of a `\uXXXX` escape (or a `\uXXXX\uXXXX` surrogate pair) at `i`; returns its length.
    private mutating func unescapeUnicode(at i: Int) throws(JSONError) -> Int {
        let unit = try hex4(at: i + 2)
        var scalar = unit
        var length = 6
        switch unit {
        case 0xD800...0xDBFF:
            guard i + 7 < input.count, input[i + 6] == Byte.backslash, input[i + 7] == Byte.u else {
                throw fail("unpaired surrogate escape", at: i)
            }
            let low = try hex4(at: i + 8)
            guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate escape", at: i) }
            scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            length = 12
        case 0xDC00...0xDFFF:
            throw fail("unpaired surrogate escape", at: i)
        default:
            break
        }
        appendUTF8(scalar)
        return length
    }

    /// Reads four hex digits at `i`.
    private func hex4(at i: Int) throws(JSONError) -> UInt32 {
        guard i + 4 <= input.count else { throw fail("invalid unicode escape", at: i) }
        var value: UInt32 = 0
        for j in i..<(i + 4) {
            let c = input[j]
            let digit: UInt8
            switch c {
            case Byte.zero...Byte.nine: digit = c - Byte.zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: throw fail("invalid unicode escape", at: i)
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Appends a Unicode scalar value (not a surrogate) to `scratch` as UTF-8.
    private mutating func appendUTF8(_ v: UInt32) {
        switch v {
        case 0..<0x80:
            scratch.append(UInt8(v))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | v >> 6))
            scratch.append(UInt8(0x80 | v & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | v >> 12))
            scratch.append(UInt8(0x80 | v >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | v & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | v >> 18))
            scratch.append(UInt8(0x80 | v >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | v >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | v & 0x3F))
        }
    }

    /// A String of already-validated UTF-8 bytes.
    func string(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        guard let base = bytes.baseAddress, !range.isEmpty else { return "" }
        let utf8 = UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self) + range.lowerBound, count: range.count)
        return String(decoding: utf8, as: UTF8.self)
    }

    /// Validates the UTF-8 sequence whose non-ASCII lead byte is at `i` (Unicode Table 3-7: no overlong forms, no
    /// surrogates, nothing above U+10FFFF, no truncation); returns its length.
    func utf8SequenceLength(at i: Int) throws(JSONError) -> Int {
        let count = input.count
        func continuation(_ j: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            j < count && input[j] >= low && input[j] <= high
        }
        switch input[i] {
        case 0xC2...0xDF:
            if continuation(i + 1) { return 2 }
        case 0xE0:
            if continuation(i + 1, 0xA0) && continuation(i + 2) { return 3 }
        case 0xE1...0xEC, 0xEE...0xEF:
            if continuation(i + 1) && continuation(i + 2) { return 3 }
        case 0xED:
            if continuation(i + 1, 0x80, 0x9F) && continuation(i + 2) { return 3 }
        case 0xF0:
            if continuation(i + 1, 0x90) && continuation(i + 2) && continuation(i + 3) { return 4 }
        case 0xF1...0xF3:
            if continuation(i + 1) && continuation(i + 2) && continuation(i + 3) { return 4 }
        case 0xF4:
            if continuation(i + 1, 0x80, 0x8F) && continuation(i + 2) && continuation(i + 3) { return 4 }
        default:
            break
        }
        throw fail("invalid UTF-8", at: i)
    }
}
