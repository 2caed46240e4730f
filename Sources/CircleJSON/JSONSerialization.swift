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
            out.append(contentsOf: JSONLiteral.null)
        case .bool(let b):
            out.append(contentsOf: b ? JSONLiteral.true : JSONLiteral.false)
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

enum JSONLiteral {
    static let null: [UInt8] = Array("null".utf8)
    static let `true`: [UInt8] = Array("true".utf8)
    static let `false`: [UInt8] = Array("false".utf8)
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
/// are copied in one append.
func jsonEscape(utf8 bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
    out.reserveCapacity(out.count + bytes.count + 2)
    out.append(Byte.quote)
    var runStart = 0
    for i in 0..<bytes.count {
        let byte = bytes[i]
        guard byte < 0x20 || byte == Byte.quote || byte == Byte.backslash else { continue }
        if runStart < i { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<i])) }
        runStart = i + 1
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
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0xF)])
        }
    }
    if runStart < bytes.count { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart...])) }
    out.append(Byte.quote)
}

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

/// Appends a number as JSON text: an integral value within ±2^53 without a fraction (`3`, `-42`; negative zero
/// as `0`), any other finite value in Swift's shortest round-trip form (`0.1`, `1e+100`), NaN and infinities as
/// `null` (JSON has no spelling for them).
public func jsonNumber(_ d: Double, into out: inout [UInt8]) {
    if d.magnitude <= JSON.maxExactInteger, d == d.rounded(.towardZero) {
        jsonInteger(Int(d), into: &out)
    } else if d.isFinite {
        out.append(contentsOf: d.description.utf8)
    } else {
        out.append(contentsOf: JSONLiteral.null)
    }
}

/// Appends an integer in decimal without allocating.
func jsonInteger(_ value: Int, into out: inout [UInt8]) {
    if value == 0 {
        out.append(Byte.zero)
        return
    }
    if value < 0 { out.append(Byte.minus) }
    var magnitude = value.magnitude
    // At most 19 digits: write them least significant first into a 24-byte stack buffer, then copy reversed.
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
    let count = withUnsafeMutableBytes(of: &digits) { buffer -> Int in
        var n = 0
        while magnitude > 0 {
            buffer[n] = Byte.zero + UInt8(magnitude % 10)
            magnitude /= 10
            n += 1
        }
        return n
    }
    withUnsafeBytes(of: &digits) { buffer in
        for i in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[i]) }
    }
}
