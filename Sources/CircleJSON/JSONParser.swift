/// A strict RFC 8259 recursive-descent parser over a borrowed byte buffer.
///
/// Strictness: no comments, no trailing commas, no NaN/Infinity, no leading zeros or '+', no raw control characters
/// or invalid UTF-8 in strings, no lone surrogate escapes, whitespace is only space, tab, LF and CR, and nothing but
/// whitespace may follow the value. Duplicate keys in an object are rejected (RFC 8259 leaves their meaning open,
/// so accepting them would let two readers of one message disagree); keys compare as Swift strings, so two
/// canonically equivalent spellings of a key also count as duplicates. Numbers that overflow a double are rejected.
///
/// Depth is checked before each recursion, so `limits.maxDepth` bounds the stack.
struct JSONParser {
    let input: UnsafeRawBufferPointer
    let limits: JSONLimits
    var pos = 0
    /// Reused buffer for strings that contain escapes.
    var scratch: [UInt8] = []

    init(_ input: UnsafeRawBufferPointer, limits: JSONLimits) {
        self.input = input
        self.limits = limits
    }

    /// Parses one value followed only by whitespace.
    mutating func parseDocument() throws(JSONError) -> JSON {
        skipWhitespace()
        let value = try parseValue(depth: 0)
        try expectEnd()
        return value
    }

    mutating func expectEnd() throws(JSONError) {
        skipWhitespace()
        guard pos == input.count else { throw fail("unexpected data after value") }
    }

    /// `depth` is the number of containers enclosing the value.
    mutating func parseValue(depth: Int) throws(JSONError) -> JSON {
        guard pos < input.count else { throw fail("unexpected end of input") }
        switch input[pos] {
        case Byte.openBrace:
            guard depth < limits.maxDepth else { throw fail("nesting too deep") }
            return .object(try parseObject(depth: depth + 1))
        case Byte.openBracket:
            guard depth < limits.maxDepth else { throw fail("nesting too deep") }
            return .array(try parseArray(depth: depth + 1))
        case Byte.quote:
            return .string(try parseString())
        case Byte.t:
            try expectLiteral("true")
            return .bool(true)
        case Byte.f:
            try expectLiteral("false")
            return .bool(false)
        case Byte.n:
            try expectLiteral("null")
            return .null
        case Byte.minus, Byte.zero...Byte.nine:
            return .number(try parseNumber())
        default:
            throw fail("expected a value")
        }
    }

    /// `pos` is at `{`; `depth` counts this object.
    mutating func parseObject(depth: Int) throws(JSONError) -> JSONObject {
        pos += 1
        skipWhitespace()
        var object = JSONObject()
        if pos < input.count, input[pos] == Byte.closeBrace {
            pos += 1
            return object
        }
        while true {
            guard pos < input.count else { throw fail("unexpected end of input") }
            guard input[pos] == Byte.quote else { throw fail("expected a string key") }
            guard object.count < limits.maxMembers else { throw fail("too many members") }
            let keyStart = pos
            let key = try parseString()
            skipWhitespace()
            guard pos < input.count, input[pos] == Byte.colon else { throw fail("expected ':'") }
            pos += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            guard object.insertNew(key, value) else { throw fail("duplicate key", at: keyStart) }
            if try endsAfterItem(close: Byte.closeBrace, expected: "expected ',' or '}'") { return object }
        }
    }

    /// After a member or element: skips whitespace and consumes `,` (more follow: false) or `close` (true).
    mutating func endsAfterItem(close: UInt8, expected: String) throws(JSONError) -> Bool {
        skipWhitespace()
        guard pos < input.count else { throw fail("unexpected end of input") }
        switch input[pos] {
        case Byte.comma:
            pos += 1
            skipWhitespace()
            return false
        case close:
            pos += 1
            return true
        default:
            throw fail(expected)
        }
    }

    /// `pos` is at `[`; `depth` counts this array.
    mutating func parseArray(depth: Int) throws(JSONError) -> [JSON] {
        pos += 1
        skipWhitespace()
        var elements: [JSON] = []
        if pos < input.count, input[pos] == Byte.closeBracket {
            pos += 1
            return elements
        }
        while true {
            guard elements.count < limits.maxMembers else { throw fail("too many elements") }
            elements.append(try parseValue(depth: depth))
            if try endsAfterItem(close: Byte.closeBracket, expected: "expected ',' or ']'") { return elements }
        }
    }

    mutating func expectLiteral(_ word: StaticString) throws(JSONError) {
        let length = word.utf8CodeUnitCount
        let start = pos
        let matches = word.withUTF8Buffer { expected in
            guard start + length <= input.count else { return false }
            for k in 0..<length where input[start + k] != expected[k] { return false }
            return true
        }
        guard matches else { throw fail("invalid literal") }
        pos += length
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < input.count {
            switch input[pos] {
            case Byte.space, Byte.tab, Byte.newline, Byte.carriageReturn: pos += 1
            default: return
            }
        }
    }

    func fail(_ message: String, at offset: Int? = nil) -> JSONError {
        JSONError(offset: offset ?? pos, message: message)
    }

    /// A string over `maxStringBytes`, opened at `offset`.
    func stringTooLong(at offset: Int) -> JSONError {
        JSONError(offset: offset, message: "string too long", isStringTooLong: true)
    }
}

/// ASCII bytes the parser and serializer look for. Computed, so each use folds to an immediate (a `static let`
/// would cost a lazy-initialization check per access in the byte loops).
enum Byte {
    static var space: UInt8 { 0x20 }
    static var tab: UInt8 { 0x09 }
    static var newline: UInt8 { 0x0A }
    static var carriageReturn: UInt8 { 0x0D }
    static var backspace: UInt8 { 0x08 }
    static var formFeed: UInt8 { 0x0C }
    static var openBrace: UInt8 { UInt8(ascii: "{") }
    static var closeBrace: UInt8 { UInt8(ascii: "}") }
    static var openBracket: UInt8 { UInt8(ascii: "[") }
    static var closeBracket: UInt8 { UInt8(ascii: "]") }
    static var quote: UInt8 { UInt8(ascii: "\"") }
    static var backslash: UInt8 { UInt8(ascii: "\\") }
    static var slash: UInt8 { UInt8(ascii: "/") }
    static var colon: UInt8 { UInt8(ascii: ":") }
    static var comma: UInt8 { UInt8(ascii: ",") }
    static var minus: UInt8 { UInt8(ascii: "-") }
    static var plus: UInt8 { UInt8(ascii: "+") }
    static var dot: UInt8 { UInt8(ascii: ".") }
    static var zero: UInt8 { UInt8(ascii: "0") }
    static var nine: UInt8 { UInt8(ascii: "9") }
    static var e: UInt8 { UInt8(ascii: "e") }
    static var upperE: UInt8 { UInt8(ascii: "E") }
    static var t: UInt8 { UInt8(ascii: "t") }
    static var f: UInt8 { UInt8(ascii: "f") }
    static var n: UInt8 { UInt8(ascii: "n") }
    static var u: UInt8 { UInt8(ascii: "u") }
    static var b: UInt8 { UInt8(ascii: "b") }
    static var r: UInt8 { UInt8(ascii: "r") }
}
