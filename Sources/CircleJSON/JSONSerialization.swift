import CircleBytes

extension JSON {
    /// Compact JSON text: no whitespace, object members in insertion order.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        serialize(into: &out)
        return out
    }

    /// Appends compact JSON text to `out`.
    ///
    /// Strings are escaped by ``jsonEscape(_:into:)``; numbers are written by ``jsonNumber(_:into:)`` (integral
    /// values within ±2^53 without a fraction, others in Swift's shortest round-trip form, NaN and infinities as
    /// `null`).
    public func serialize(into out: inout [UInt8]) {
        switch self {
        case .null:
            out.appendLiteral("null")
        case .bool(let b):
            out.appendLiteral(b ? "true" : "false")
        case .number(let d):
            jsonNumber(d, into: &out)
        case .string(let s):
            jsonEscape(s, into: &out)
        case .array(let elements):
            out.append(Byte.openBracket)
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(Byte.comma) }
                element.serialize(into: &out)
            }
            out.append(Byte.closeBracket)
        case .object(let members):
            out.append(Byte.openBrace)
            var first = true
            for (key, value) in members {
                if !first { out.append(Byte.comma) }
                first = false
                jsonEscape(key, into: &out)
                out.append(Byte.colon)
                value.serialize(into: &out)
            }
            out.append(Byte.closeBrace)
        }
    }
}

extension JSON: CustomStringConvertible {
    /// The compact JSON text.
    public var description: String { String(decoding: serialized(), as: UTF8.self) }
}

extension Array where Element == UInt8 {
    /// Appends the bytes of a literal (`true`, `false`, `null`).
    @inline(__always)
    mutating func appendLiteral(_ literal: StaticString) {
        literal.withUTF8Buffer { append(contentsOf: $0) }
    }
}

/// Escapes a string into JSON string syntax (quotes included) appended to `out`.
///
/// `"` and `\` are backslash-escaped; control characters below U+0020 become `\b \f \n \r \t` or `\u00XX`;
/// everything else, all other Unicode included, is copied as UTF-8.
public func jsonEscape(_ s: String, into out: inout [UInt8]) {
    var s = s
    s.withUTF8 { jsonEscape(utf8: UnsafeRawBufferPointer($0), into: &out) }
}

/// Escapes UTF-8 bytes (assumed valid) into JSON string syntax, quotes included. Runs of bytes that need no escape
/// are found a word at a time and copied in one append.
func jsonEscape(utf8 bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
    escapeJSONString(bytes, into: &out)
}

/// The escaping itself: `"` and `\` backslash-escaped, control characters below U+0020 as `\b \f \n \r \t` or
/// `\u00XX`, everything else copied; runs that need no escape found a word at a time and copied whole.
private func escapeJSONString(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
    out.append(Byte.quote)
    var runStart = 0
    var i = 0
    while i < bytes.count {
        i = WordScan.skipWords(bytes, from: i, to: bytes.count, mask: ByteScan.escapeMask)
        guard i < bytes.count else { break }
        let byte = bytes[i]
        i += 1
        guard byte < 0x20 || byte == Byte.quote || byte == Byte.backslash else { continue }
        out.appendBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<(i - 1)]))
        runStart = i
        out.append(Byte.backslash)
        switch byte {
        case Byte.quote, Byte.backslash: out.append(byte)
        case Byte.newline: out.append(Byte.n)
        case Byte.carriageReturn: out.append(Byte.r)
        case Byte.tab: out.append(Byte.t)
        case Byte.backspace: out.append(Byte.b)
        case Byte.formFeed: out.append(Byte.f)
        default:
            out.append(Byte.u)
            out.append(Byte.zero)
            out.append(Byte.zero)
            out.append(hexDigit(byte >> 4))
            out.append(hexDigit(byte & 0xF))
        }
    }
    out.appendBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart...]))
    out.append(Byte.quote)
}

@inline(__always)
private func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? Byte.zero + nibble : UInt8(ascii: "a") + nibble - 10 }

/// Appends a number as JSON text: an integral value within ±2^53 without a fraction (`3`, `-42`; negative zero
/// as `0`), any other finite value in Swift's shortest round-trip form (`0.1`, `1e+100`), NaN and infinities as
/// `null` (JSON has no spelling for them).
public func jsonNumber(_ d: Double, into out: inout [UInt8]) {
    if d.magnitude <= JSON.maxExactInteger, d == d.rounded(.towardZero) {
        jsonInteger(Int(d), into: &out)
    } else if d.isFinite {
        out.append(contentsOf: d.description.utf8)
    } else {
        out.appendLiteral("null")
    }
}

/// Appends an integer in decimal without allocating.
func jsonInteger(_ value: Int, into out: inout [UInt8]) { writeInteger(value, into: &out) }

private func writeInteger(_ value: Int, into out: inout [UInt8]) {
    if value < 0 { out.append(Byte.minus) }
    var magnitude = value.magnitude
    // At most 19 digits: fill a 24-byte stack buffer from its end, then copy the used tail in one append.
    var buffer: (UInt64, UInt64, UInt64) = (0, 0, 0)
    withUnsafeMutableBytes(of: &buffer) { digits in
        var start = digits.count
        repeat {
            start -= 1
            digits[start] = Byte.zero + UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
        out.appendBytes(UnsafeRawBufferPointer(rebasing: digits[start...]))
    }
}
