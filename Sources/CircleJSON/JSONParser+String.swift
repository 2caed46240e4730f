import CircleBytes

extension JSONParser {
    /// Parses a string; `pos` is at the opening quote.
    mutating func parseString() throws(JSONError) -> String {
        switch try scanString(unescape: true) {
        case .raw(let range, _): return string(input, range)
        case .escaped: return scratch.withUnsafeBytes { string($0, 0..<$0.count) }
        }
    }

    /// Validates a string without building it; `pos` is at the opening quote. Same rules, limits and errors as
    /// `parseString`.
    @inline(__always)
    mutating func skipString() throws(JSONError) -> StringScan {
        try scanString(unescape: false)
    }

    /// Scans a string; `pos` is at the opening quote and ends after the closing one.
    ///
    /// The fast path scans a string without escapes once (eight bytes at a time through plain ASCII, validating
    /// UTF-8 and rejecting control characters); its text is then the input between the quotes. A string with
    /// escapes continues in `scanEscapedString`, which unescapes into `scratch` when `unescape` is set and
    /// otherwise only counts the unescaped length (for the limit) — one code path, so validating and parsing accept
    /// and reject exactly the same strings.
    mutating func scanString(unescape: Bool) throws(JSONError) -> StringScan {
        let open = pos
        let count = input.count
        // The closing quote of a string within the byte limit sits before `scanEnd`.
        let scanEnd = limits.maxStringBytes < count ? min(count, open + 2 + limits.maxStringBytes) : count
        var i = open + 1
        var ascii = true
        while i < scanEnd {
            i = ByteScan.skipPlainASCII(input, from: i, to: scanEnd)
            guard i < scanEnd else { break }
            let byte = input[i]
            if byte == Byte.quote {
                pos = i + 1
                return .raw((open + 1)..<i, ascii: ascii)
            }
            if byte == Byte.backslash {
                try scanEscapedString(open: open, escapeAt: i, unescape: unescape)
                return .escaped
            }
            if byte < 0x20 { throw fail("control character in string", at: i) }
            if byte < 0x80 {
                i += 1
            } else {
                ascii = false
                i += try utf8SequenceLength(at: i)
            }
        }
        if i >= count { throw fail("unterminated string", at: count) }
        throw stringTooLong(at: open)
    }

    /// Continues a string from its first escape at `escapeAt`, unescaping into `scratch` if `unescape` is set;
    /// `length` counts the unescaped bytes either way.
    private mutating func scanEscapedString(open: Int, escapeAt: Int, unescape: Bool) throws(JSONError) {
        if unescape {
            scratch.removeAll(keepingCapacity: true)
            if scratch.capacity == 0 {
                // Usually the one allocation for all escaped strings of a document; longer strings grow it.
                scratch.reserveCapacity(min(input.count - open, 1024))
            }
            scratch.appendBytes(UnsafeRawBufferPointer(rebasing: input[(open + 1)..<escapeAt]))
        }
        var length = escapeAt - open - 1
        let count = input.count
        var i = escapeAt
        while i < count {
            // Take a run of plain ASCII at once, never past the byte limit by more than a word.
            let room = limits.maxStringBytes - length
            let runEnd = ByteScan.skipPlainASCII(input, from: i, to: room < count - i ? i + room + 1 : count)
            if runEnd > i {
                if unescape { scratch.appendBytes(UnsafeRawBufferPointer(rebasing: input[i..<runEnd])) }
                length += runEnd - i
                i = runEnd
                if length > limits.maxStringBytes { throw stringTooLong(at: open) }
                continue
            }
            let byte = input[i]
            if byte == Byte.quote {
                pos = i + 1
                return
            } else if byte == Byte.backslash {
                let (consumed, produced) = try unescapeCharacter(at: i, store: unescape)
                i += consumed
                length += produced
            } else if byte < 0x20 {
                throw fail("control character in string", at: i)
            } else if byte < 0x80 {
                if unescape { scratch.append(byte) }
                length += 1
                i += 1
            } else {
                let sequence = try utf8SequenceLength(at: i)
                if unescape { scratch.appendBytes(UnsafeRawBufferPointer(rebasing: input[i..<(i + sequence)])) }
                length += sequence
                i += sequence
            }
            if length > limits.maxStringBytes { throw stringTooLong(at: open) }
        }
        throw fail("unterminated string", at: count)
    }

    /// Reads the escape at `i` (a backslash), appending its character to `scratch` if `store` is set; returns the
    /// escape's length in the input and the character's length in UTF-8.
    private mutating func unescapeCharacter(
        at i: Int, store: Bool
    ) throws(JSONError) -> (consumed: Int, produced: Int) {
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
        case Byte.u: return try unescapeUnicode(at: i, store: store)
        default: throw fail("invalid escape", at: i)
        }
        if store { scratch.append(replacement) }
        return (2, 1)
    }

    /// Reads a `\uXXXX` escape (or a `\uXXXX\uXXXX` surrogate pair) at `i`, appending its scalar to `scratch` if
    /// `store` is set; returns the escape's length and the scalar's length in UTF-8.
    private mutating func unescapeUnicode(at i: Int, store: Bool) throws(JSONError) -> (consumed: Int, produced: Int) {
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
        if store { appendUTF8(scalar) }
        let produced = scalar < 0x80 ? 1 : scalar < 0x800 ? 2 : scalar < 0x10000 ? 3 : 4
        return (length, produced)
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
        let utf8 = UnsafeBufferPointer(
            start: base.assumingMemoryBound(to: UInt8.self) + range.lowerBound, count: range.count)
        return String(decoding: utf8, as: UTF8.self)
    }

    /// Validates the UTF-8 sequence whose non-ASCII lead byte is at `i` (CircleBytes' validator); returns its length.
    @inline(__always)
    func utf8SequenceLength(at i: Int) throws(JSONError) -> Int {
        let length = Utf8Validator.sequenceLength(input, at: i)
        if length == 0 { throw fail("invalid UTF-8", at: i) }
        return length
    }
}

/// What `JSONParser.scanString` found.
enum StringScan {
    /// No escapes: the string is the input in `range` (between the quotes); `ascii` if every byte is below 0x80.
    case raw(Range<Int>, ascii: Bool)
    /// Escapes: the unescaped text is in `scratch` (when unescaping).
    case escaped
}
