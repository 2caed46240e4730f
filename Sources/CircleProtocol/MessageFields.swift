import CircleJSON

/// Why one field of an otherwise well-formed message was refused; `message` is fixed text.
struct FieldError: Error {
    var message: String
}

/// Every member name a client message may carry (`type`, `id` and each command's own fields).
enum Field: Int, CaseIterable {
    case type, id, to, toAll, payload, mic, camera, kind, text, phase, silenceMs, participant, position, policy
    case turnLengthMs, nudgeBeforeMs, autoAdvance, queuePolicy

    /// The member's name on the wire.
    var name: StaticString {
        switch self {
        case .type: "type"
        case .id: "id"
        case .to: "to"
        case .toAll: "to_all"
        case .payload: "payload"
        case .mic: "mic"
        case .camera: "camera"
        case .kind: "kind"
        case .text: "text"
        case .phase: "phase"
        case .silenceMs: "silence_ms"
        case .participant: "participant"
        case .position: "position"
        case .policy: "policy"
        case .turnLengthMs: "turn_length_ms"
        case .nudgeBeforeMs: "nudge_before_ms"
        case .autoAdvance: "auto_advance"
        case .queuePolicy: "queue_policy"
        }
    }

    /// This field's bit in a ``FieldSet``.
    var bit: UInt32 { 1 << UInt32(rawValue) }

    /// The field a key's bytes (between its quotes) name, if any. Byte comparison is exact for the plain ASCII keys
    /// this is used for.
    static func named(_ key: UnsafeRawBufferPointer) -> Field? {
        guard let first = key.first else { return nil }
        let candidate: Field
        switch (key.count, first) {
        case (4, UInt8(ascii: "k")): candidate = .kind
        case (4, _): candidate = key[1] == UInt8(ascii: "y") ? .type : .text
        case (2, UInt8(ascii: "i")): candidate = .id
        case (2, _): candidate = .to
        case (6, UInt8(ascii: "t")): candidate = .toAll
        case (6, UInt8(ascii: "c")): candidate = .camera
        case (6, _): candidate = .policy
        case (7, _): candidate = .payload
        case (3, _): candidate = .mic
        case (5, _): candidate = .phase
        case (10, _): candidate = .silenceMs
        case (11, _): candidate = .participant
        case (8, _): candidate = .position
        case (14, _): candidate = .turnLengthMs
        case (15, _): candidate = .nudgeBeforeMs
        case (12, UInt8(ascii: "q")): candidate = .queuePolicy
        case (12, _): candidate = .autoAdvance
        default: return nil
        }
        return candidate.nameBytesEqual(key) ? candidate : nil
    }

    private func nameBytesEqual(_ key: UnsafeRawBufferPointer) -> Bool {
        name.withUTF8Buffer { expected in
            guard expected.count == key.count else { return false }
            for k in 0..<expected.count where expected[k] != key[k] { return false }
            return true
        }
    }

    /// The field named by a key string, compared as Swift strings (for keys with escapes or non-ASCII bytes).
    static func named(_ key: String) -> Field? {
        allCases.first { $0.name.description == key }
    }
}

/// Typed reads of a scanned message's members: where each known field's value lies in the text, and whether the
/// message had any member that no command defines. Every read either returns a well-typed value or throws a
/// ``FieldError`` naming the protocol's field (never the input). Nothing is copied until a value is read.
struct MessageFields {
    let text: UnsafeRawBufferPointer
    /// The fields present (one bit per ``Field``).
    private(set) var present: UInt32 = 0
    /// Whether a member with a name no command defines was present.
    private(set) var hasForeignMember = false
    /// Where each present field's value lies; meaningful only for present fields.
    private var spans = InlineArray<18, JSONSpan>(repeating: JSONSpan(range: 0..<0, isPlain: false))

    init(text: UnsafeRawBufferPointer) {
        self.text = text
    }

    /// Records one member found by the scan (keys never repeat: the scan rejects duplicates).
    mutating func record(_ member: JSONMemberSpan) {
        let field: Field?
        if member.key.isPlain {
            let range = member.key.range
            let name = (range.lowerBound + 1)..<(range.upperBound - 1)
            field = Field.named(UnsafeRawBufferPointer(rebasing: text[name]))
        } else {
            field = member.key.stringValue(in: text).flatMap { Field.named($0) }
        }
        guard let field else {
            hasForeignMember = true
            return
        }
        present |= field.bit
        spans[field.rawValue] = member.value
    }

    /// The value of `field`, if present.
    func span(_ field: Field) -> JSONSpan? {
        present & field.bit != 0 ? spans[field.rawValue] : nil
    }

    /// Reads a present `old` as `new` from now on (a version 1 alias; `new` must be absent).
    mutating func rename(_ old: Field, to new: Field) {
        guard let value = span(old) else { return }
        present = present & ~old.bit | new.bit
        spans[new.rawValue] = value
    }

    /// Forgets `field` (a member an alias has consumed).
    mutating func remove(_ field: Field) {
        present &= ~field.bit
    }

    /// A required string.
    func string(_ field: Field) throws(FieldError) -> String {
        guard let value = span(field) else { throw missing(field) }
        guard let string = value.stringValue(in: text) else { throw illTyped(field, "a string") }
        return string
    }

    /// An optional string (absent → nil; `null` is ill-typed).
    func optionalString(_ field: Field) throws(FieldError) -> String? {
        guard span(field) != nil else { return nil }
        return try string(field)
    }

    /// A required Boolean.
    func bool(_ field: Field) throws(FieldError) -> Bool {
        guard let value = span(field) else { throw missing(field) }
        guard let bool = value.boolValue(in: text) else { throw illTyped(field, "true or false") }
        return bool
    }

    /// An optional Boolean.
    func optionalBool(_ field: Field) throws(FieldError) -> Bool? {
        guard span(field) != nil else { return nil }
        return try bool(field)
    }

    /// A required non-negative integer (at most 2^53).
    func nonNegativeInteger(_ field: Field) throws(FieldError) -> Int {
        guard let value = span(field) else { throw missing(field) }
        guard let int = value.intValue(in: text), int >= 0 else { throw illTyped(field, "a non-negative integer") }
        return int
    }

    /// A required duration in whole milliseconds, at most ``WireProtocol/maxDurationMilliseconds``.
    func milliseconds(_ field: Field) throws(FieldError) -> Duration {
        let ms = try nonNegativeInteger(field)
        guard ms <= WireProtocol.maxDurationMilliseconds else {
            throw FieldError(message: "`\(field.name)` must be at most \(WireProtocol.maxDurationMilliseconds) ms")
        }
        return .milliseconds(Int64(ms))
    }

    /// An optional duration in whole milliseconds.
    func optionalMilliseconds(_ field: Field) throws(FieldError) -> Duration? {
        guard span(field) != nil else { return nil }
        return try milliseconds(field)
    }

    /// A required string that must be one of an enumeration's wire names.
    func wireEnum<Value: RawRepresentable<String>>(_ field: Field, as _: Value.Type) throws(FieldError) -> Value {
        guard let value = Value(rawValue: try string(field)) else {
            throw FieldError(message: "unknown value for `\(field.name)`")
        }
        return value
    }

    private func missing(_ field: Field) -> FieldError {
        FieldError(message: "missing field `\(field.name)`")
    }

    private func illTyped(_ field: Field, _ expected: String) -> FieldError {
        FieldError(message: "`\(field.name)` must be \(expected)")
    }
}
