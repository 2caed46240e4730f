import CircleJSON

/// One-call object members, so the encoders read as the wire format they write.
extension JSONWriter {
    @inline(__always)
    mutating func member(_ key: StaticString, _ value: String) {
        self.key(key)
        string(value)
    }

    /// A member whose value is a constant string (a wire name): no `String` is built.
    @inline(__always)
    mutating func member(_ key: StaticString, literal value: StaticString) {
        self.key(key)
        string(value)
    }

    @inline(__always)
    mutating func member(_ key: StaticString, _ value: Bool) {
        self.key(key)
        bool(value)
    }

    @inline(__always)
    mutating func member(_ key: StaticString, _ value: Int) {
        self.key(key)
        int(value)
    }

    @inline(__always)
    mutating func member(_ key: StaticString, _ value: UInt64) {
        self.key(key)
        int(Int(clamping: value))
    }

    /// A duration as whole milliseconds (the unit of every duration on the wire).
    @inline(__always)
    mutating func member(_ key: StaticString, milliseconds value: Duration) {
        self.key(key)
        int(Int(value.wholeMilliseconds))
    }

    /// A duration member only when there is one (optional fields are omitted, never `null`).
    @inline(__always)
    mutating func member(_ key: StaticString, milliseconds value: Duration?) {
        if let value { member(key, milliseconds: value) }
    }

    /// A string member only when there is one.
    @inline(__always)
    mutating func member(_ key: StaticString, _ value: String?) {
        if let value { member(key, value) }
    }

    /// An array of strings.
    mutating func member(_ key: StaticString, strings: [String]) {
        self.key(key)
        beginArray()
        for string in strings { self.string(string) }
        endArray()
    }
}
