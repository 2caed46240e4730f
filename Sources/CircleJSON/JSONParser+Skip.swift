import CircleBytes

/// Validation without building: the same grammar, limits and errors as the tree parser (`parseValue`), walked in
/// the same order, but nothing is allocated for strings, arrays or plain objects.
///
/// Strings share `scanString` and numbers `parseNumber` with the tree parser. Objects must still reject duplicate
/// keys with the tree's semantics (keys compare as Swift strings): keys that are plain ASCII without escapes compare
/// by their bytes, which is the same thing for ASCII; an object with any other key, or with more than
/// ``KeyRanges/inlineCapacity`` members, falls back to a `Set<String>` of its keys.
extension JSONParser {
    /// Validates one value exactly as `parseValue(depth:)` would accept or reject it; `depth` is the number of
    /// containers enclosing it. Returns, for a string, whether it is plain (see ``JSONSpan/isPlain``).
    @discardableResult
    mutating func skipValue(depth: Int) throws(JSONError) -> Bool {
        guard pos < input.count else { throw fail("unexpected end of input") }
        switch input[pos] {
        case Byte.openBrace:
            guard depth < limits.maxDepth else { throw fail("nesting too deep") }
            try skipObject(depth: depth + 1)
        case Byte.openBracket:
            guard depth < limits.maxDepth else { throw fail("nesting too deep") }
            try skipArray(depth: depth + 1)
        case Byte.quote:
            if case .raw(_, let ascii) = try skipString() { return ascii }
        case Byte.t:
            try expectLiteral("true")
        case Byte.f:
            try expectLiteral("false")
        case Byte.n:
            try expectLiteral("null")
        case Byte.minus, Byte.zero...Byte.nine:
            _ = try parseNumber(validateOnly: true)
        default:
            throw fail("expected a value")
        }
        return false
    }

    /// `pos` is at `{`; `depth` counts this object. Mirrors `parseObject(depth:)`.
    mutating func skipObject(depth: Int) throws(JSONError) {
        try skipObject(depth: depth) { _ in }
    }

    /// `pos` is at `{`; `depth` counts this object. Mirrors `parseObject(depth:)`, calling `visit` with each member
    /// once it is validated (its key checked against the earlier ones).
    mutating func skipObject(depth: Int, visit: (JSONMemberSpan) -> Void) throws(JSONError) {
        pos += 1
        skipWhitespace()
        if pos < input.count, input[pos] == Byte.closeBrace {
            pos += 1
            return
        }
        var keys = KeyRanges()
        while true {
            guard pos < input.count else { throw fail("unexpected end of input") }
            guard input[pos] == Byte.quote else { throw fail("expected a string key") }
            guard keys.count < limits.maxMembers else { throw fail("too many members") }
            let keyStart = pos
            let keyPlain: Bool
            if case .raw(_, let ascii) = try skipString() { keyPlain = ascii } else { keyPlain = false }
            let keyEnd = pos
            skipWhitespace()
            guard pos < input.count, input[pos] == Byte.colon else { throw fail("expected ':'") }
            pos += 1
            skipWhitespace()
            let valueStart = pos
            let valuePlain = try skipValue(depth: depth)
            guard try insertNewKey(keyStart..<keyEnd, plain: keyPlain, into: &keys) else {
                throw fail("duplicate key", at: keyStart)
            }
            visit(
                JSONMemberSpan(
                    key: JSONSpan(range: keyStart..<keyEnd, isPlain: keyPlain),
                    value: JSONSpan(range: valueStart..<pos, isPlain: valuePlain)))
            if try endsAfterItem(close: Byte.closeBrace, expected: "expected ',' or '}'") { return }
        }
    }

    /// `pos` is at `[`; `depth` counts this array. Mirrors `parseArray(depth:)`.
    mutating func skipArray(depth: Int) throws(JSONError) {
        pos += 1
        skipWhitespace()
        if pos < input.count, input[pos] == Byte.closeBracket {
            pos += 1
            return
        }
        var count = 0
        while true {
            guard count < limits.maxMembers else { throw fail("too many elements") }
            try skipValue(depth: depth)
            count += 1
            if try endsAfterItem(close: Byte.closeBracket, expected: "expected ',' or ']'") { return }
        }
    }

    /// Records the key literal at `range` (quotes included); false if the object already has an equal key.
    private mutating func insertNewKey(
        _ range: Range<Int>, plain: Bool, into keys: inout KeyRanges
    ) throws(JSONError) -> Bool {
        if keys.strings == nil {
            if plain && keys.count < KeyRanges.inlineCapacity {
                for k in 0..<keys.count where bytesEqual(keys[k], range) { return false }
                keys.append(range)
                return true
            }
            // Leave the byte-compared form: every key so far as a string.
            var strings = Set<String>(minimumCapacity: keys.count + 1)
            for k in 0..<keys.count { strings.insert(try materializeKey(keys[k])) }
            keys.strings = strings
        }
        let inserted = keys.strings!.insert(try materializeKey(range)).inserted
        if inserted { keys.count += 1 }
        return inserted
    }

    /// The string of an already validated key literal at `range`.
    private mutating func materializeKey(_ range: Range<Int>) throws(JSONError) -> String {
        let saved = pos
        defer { pos = saved }
        pos = range.lowerBound
        return try parseString()
    }

    private func bytesEqual(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
        guard a.count == b.count, let base = input.baseAddress else { return false }
        return WordScan.equal(base + a.lowerBound, base + b.lowerBound, count: a.count)
    }
}

/// The keys of one object being validated: up to `inlineCapacity` plain key ranges held inline (no allocation),
/// else a set of the keys as strings.
struct KeyRanges {
    static var inlineCapacity: Int { 8 }
    var count = 0
    private var bounds: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var strings: Set<String>?

    subscript(k: Int) -> Range<Int> {
        withUnsafeBytes(of: bounds) { raw in
            raw.load(fromByteOffset: 16 * k, as: Int.self)..<raw.load(fromByteOffset: 16 * k + 8, as: Int.self)
        }
    }

    mutating func append(_ range: Range<Int>) {
        let k = count
        withUnsafeMutableBytes(of: &bounds) { raw in
            raw.storeBytes(of: range.lowerBound, toByteOffset: 16 * k, as: Int.self)
            raw.storeBytes(of: range.upperBound, toByteOffset: 16 * k + 8, as: Int.self)
        }
        count += 1
    }
}
