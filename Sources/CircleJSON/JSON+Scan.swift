extension JSON {
    /// Validates a JSON text that must be an object — accepting and refusing exactly what ``parse(_:limits:)``
    /// does, with the same errors ("expected an object" for any other value) — and
    /// calls `member` with where each top-level member's key and value lie, in order, without building anything.
    ///
    /// `member` sees a member once its value is validated and its key is known not to repeat an earlier one; the
    /// whole text is validated before this returns, so a caller that must refuse malformed text should act on the
    /// members only after a successful return.
    ///
    /// ```swift
    /// try JSON.scanTopObject(buffer) { m in
    ///     if m.key.equals("payload", in: buffer) { payload = m.value.range }
    /// }
    /// ```
    public static func scanTopObject(
        _ bytes: UnsafeRawBufferPointer, limits: JSONLimits = .init(), member: (JSONMemberSpan) -> Void
    ) throws(JSONError) {
        var parser = JSONParser(bytes, limits: limits)
        parser.skipWhitespace()
        guard parser.pos < bytes.count, bytes[parser.pos] == Byte.openBrace else {
            throw parser.fail("expected an object")
        }
        guard limits.maxDepth > 0 else { throw parser.fail("nesting too deep") }
        try parser.skipObject(depth: 1, visit: member)
        try parser.expectEnd()
    }
}

/// One member of an object found by ``JSON/scanTopObject(_:limits:member:)``.
public struct JSONMemberSpan: Sendable, Equatable {
    /// The key: a string literal.
    public var key: JSONSpan
    /// The value.
    public var value: JSONSpan

    /// A member.
    public init(key: JSONSpan, value: JSONSpan) {
        self.key = key
        self.value = value
    }
}

/// Where one validated JSON value lies in its input; read it with the input it came from.
public struct JSONSpan: Sendable, Equatable {
    /// The value's bytes: from its first byte to its last, quotes included for a string.
    public var range: Range<Int>
    /// For a string: it holds no escapes and only ASCII, so the bytes between its quotes are the string itself and
    /// two plain strings are equal exactly when their bytes are. False for every other value.
    public var isPlain: Bool

    /// A span.
    public init(range: Range<Int>, isPlain: Bool) {
        self.range = range
        self.isPlain = isPlain
    }

    /// The value's first byte (`{`, `[`, `"`, `t`, `f`, `n`, `-` or a digit).
    @inline(__always)
    public func firstByte(in bytes: UnsafeRawBufferPointer) -> UInt8 { bytes[range.lowerBound] }

    /// Whether the value is a string.
    @inline(__always)
    public func isString(in bytes: UnsafeRawBufferPointer) -> Bool { firstByte(in: bytes) == Byte.quote }

    /// Whether the value is the string `ascii` (compared as Swift strings, as ``JSON`` does).
    public func equals(_ ascii: StaticString, in bytes: UnsafeRawBufferPointer) -> Bool {
        guard isString(in: bytes) else { return false }
        if isPlain {
            guard range.count == ascii.utf8CodeUnitCount + 2 else { return false }
            return ascii.withUTF8Buffer { expected in
                for k in 0..<expected.count where bytes[range.lowerBound + 1 + k] != expected[k] { return false }
                return true
            }
        }
        return stringValue(in: bytes) == ascii.description
    }

    /// The string, if the value is one.
    public func stringValue(in bytes: UnsafeRawBufferPointer) -> String? {
        guard isString(in: bytes) else { return nil }
        if isPlain, let base = bytes.baseAddress {
            let utf8 = UnsafeBufferPointer(
                start: base.assumingMemoryBound(to: UInt8.self) + range.lowerBound + 1, count: range.count - 2)
            return String(decoding: utf8, as: UTF8.self)
        }
        var parser = JSONParser(bytes, limits: Self.unbounded)
        parser.pos = range.lowerBound
        return try? parser.parseString()
    }

    /// The Boolean, if the value is `true` or `false`.
    public func boolValue(in bytes: UnsafeRawBufferPointer) -> Bool? {
        switch firstByte(in: bytes) {
        case Byte.t: true
        case Byte.f: false
        default: nil
        }
    }

    /// Whether the value is `null`.
    public func isNull(in bytes: UnsafeRawBufferPointer) -> Bool { firstByte(in: bytes) == Byte.n }

    /// The number, if the value is one.
    public func doubleValue(in bytes: UnsafeRawBufferPointer) -> Double? {
        let first = firstByte(in: bytes)
        guard first == Byte.minus || (Byte.zero...Byte.nine).contains(first) else { return nil }
        var parser = JSONParser(bytes, limits: Self.unbounded)
        parser.pos = range.lowerBound
        return try? parser.parseNumber()
    }

    /// The number as an `Int`, with ``JSON/intValue``'s rule: only an exact integer within ±2^53.
    public func intValue(in bytes: UnsafeRawBufferPointer) -> Int? {
        JSON.number(doubleValue(in: bytes) ?? .nan).intValue
    }

    /// The value as a ``JSON`` tree (for the rare member a caller needs whole).
    public func json(in bytes: UnsafeRawBufferPointer, limits: JSONLimits = .init()) -> JSON? {
        try? JSON.parse(UnsafeRawBufferPointer(rebasing: bytes[range]), limits: limits)
    }

    /// Limits for re-reading a value that was already validated within the caller's limits.
    private static var unbounded: JSONLimits { JSONLimits(maxDepth: .max, maxStringBytes: .max, maxMembers: .max) }
}
