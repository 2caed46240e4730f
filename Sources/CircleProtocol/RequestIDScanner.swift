import CircleJSON

/// Best-effort recovery of the request `id` from a message that failed to decode as a whole (malformed, nested too
/// deep, too large), so the `error` reply can still be matched to its request.
///
/// Walks the top-level object's members without recursion — nested values are skipped by counting brackets — and
/// stops at the first thing it cannot follow. The id is returned only if it is a well-formed JSON string of
/// 1 … `maxRequestIDBytes` bytes and the only `id` member seen; anything else gives nil. This runs only on the
/// failure path.
enum RequestIDScanner {
    static func scan(_ text: UnsafeRawBufferPointer, limits: ProtocolLimits) -> String? {
        var cursor = Cursor(text: text)
        cursor.skipWhitespace()
        guard cursor.take(UInt8(ascii: "{")) else { return nil }
        var found: String?
        var ids = 0
        while true {
            cursor.skipWhitespace()
            guard let key = cursor.stringRange(), cursor.skipWhitespaceThen(UInt8(ascii: ":")) else { break }
            cursor.skipWhitespace()
            if isID(key, in: text) {
                ids += 1
                guard let value = cursor.stringRange() else { return nil }
                found = idString(UnsafeRawBufferPointer(rebasing: text[value]), limits: limits)
            } else if !cursor.skipValue() {
                break
            }
            guard cursor.skipWhitespaceThen(UInt8(ascii: ",")) else { break }
        }
        return ids == 1 ? found : nil
    }

    /// Whether a key's raw bytes (quotes included) are exactly `"id"`.
    private static func isID(_ key: Range<Int>, in text: UnsafeRawBufferPointer) -> Bool {
        key.count == 4 && text[key.lowerBound + 1] == UInt8(ascii: "i") && text[key.lowerBound + 2] == UInt8(ascii: "d")
    }

    /// The string a raw JSON string literal denotes, if it is valid and of acceptable length.
    private static func idString(_ literal: UnsafeRawBufferPointer, limits: ProtocolLimits) -> String? {
        let bounded = JSONLimits(maxDepth: 0, maxStringBytes: limits.maxRequestIDBytes, maxMembers: 0)
        guard let string = try? JSON.parse(literal, limits: bounded).stringValue, !string.isEmpty else { return nil }
        return string
    }
}

/// A position in a message being walked loosely.
private struct Cursor {
    let text: UnsafeRawBufferPointer
    var pos = 0

    mutating func skipWhitespace() {
        while pos < text.count, isWhitespace(text[pos]) { pos += 1 }
    }

    /// Skips whitespace, then consumes `byte` if it is next.
    mutating func skipWhitespaceThen(_ byte: UInt8) -> Bool {
        skipWhitespace()
        return take(byte)
    }

    mutating func take(_ byte: UInt8) -> Bool {
        guard pos < text.count, text[pos] == byte else { return false }
        pos += 1
        return true
    }

    /// Consumes a string literal and returns its range, quotes included; nil if none starts here or it never ends.
    mutating func stringRange() -> Range<Int>? {
        let start = pos
        guard take(UInt8(ascii: "\"")) else { return nil }
        while pos < text.count {
            switch text[pos] {
            case UInt8(ascii: "\\"): pos += 2
            case UInt8(ascii: "\""):
                pos += 1
                return start..<pos
            default: pos += 1
            }
        }
        return nil
    }

    /// Consumes one value of any kind without checking it, counting brackets for containers. False if it never ends.
    mutating func skipValue() -> Bool {
        guard pos < text.count else { return false }
        switch text[pos] {
        case UInt8(ascii: "\""):
            return stringRange() != nil
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while pos < text.count {
                switch text[pos] {
                case UInt8(ascii: "\""):
                    guard stringRange() != nil else { return false }
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 {
                        pos += 1
                        return true
                    }
                default: break
                }
                pos += 1
            }
            return false
        default:
            let start = pos
            while pos < text.count, !isDelimiter(text[pos]) { pos += 1 }
            return pos > start
        }
    }

    private func isDelimiter(_ byte: UInt8) -> Bool {
        isWhitespace(byte) || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]")
    }
}
