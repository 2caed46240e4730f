import CircleJSON

/// Why one field of an otherwise well-formed message was refused; `message` is fixed text.
struct FieldError: Error {
    var message: String
}

/// Typed reads of a parsed message's members. Every read either returns a well-typed value or throws a
/// ``FieldError`` naming the protocol's field (never the input).
struct MessageFields {
    let object: JSONObject

    /// A required string.
    func string(_ name: String) throws(FieldError) -> String {
        guard let value = object[name] else { throw missing(name) }
        guard let string = value.stringValue else { throw illTyped(name, "a string") }
        return string
    }

    /// An optional string (absent → nil; `null` is ill-typed).
    func optionalString(_ name: String) throws(FieldError) -> String? {
        guard object[name] != nil else { return nil }
        return try string(name)
    }

    /// A required Boolean.
    func bool(_ name: String) throws(FieldError) -> Bool {
        guard let value = object[name] else { throw missing(name) }
        guard let bool = value.boolValue else { throw illTyped(name, "true or false") }
        return bool
    }

    /// An optional Boolean.
    func optionalBool(_ name: String) throws(FieldError) -> Bool? {
        guard object[name] != nil else { return nil }
        return try bool(name)
    }

    /// A required non-negative integer (at most 2^53).
    func nonNegativeInteger(_ name: String) throws(FieldError) -> Int {
        guard let value = object[name] else { throw missing(name) }
        guard let int = value.intValue, int >= 0 else { throw illTyped(name, "a non-negative integer") }
        return int
    }

    /// A required duration in whole milliseconds.
    func milliseconds(_ name: String) throws(FieldError) -> Duration {
        .milliseconds(Int64(try nonNegativeInteger(name)))
    }

    /// An optional duration in whole milliseconds.
    func optionalMilliseconds(_ name: String) throws(FieldError) -> Duration? {
        guard object[name] != nil else { return nil }
        return try milliseconds(name)
    }

    /// A required string that must be one of an enumeration's wire names.
    func wireEnum<Value: RawRepresentable<String>>(_ name: String, as _: Value.Type) throws(FieldError) -> Value {
        guard let value = Value(rawValue: try string(name)) else { throw FieldError(message: "unknown value for `\(name)`") }
        return value
    }

    private func missing(_ name: String) -> FieldError {
        FieldError(message: "missing field `\(name)`")
    }

    private func illTyped(_ name: String, _ expected: String) -> FieldError {
        FieldError(message: "`\(name)` must be \(expected)")
    }
}
