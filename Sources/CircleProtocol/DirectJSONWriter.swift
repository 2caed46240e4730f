import CircleJSON

/// Writes JSON text straight into memory reserved at the end of a ``JSONWriter``'s bytes: each run of constant text
/// (`,"name":`) is one copy, each value one short loop, with no per-token capacity or uniqueness check. Used for the
/// large, fixed-shape messages of a join (the welcome's snapshot, `participant_joined`, `round_changed`), which the
/// token-at-a-time writer spent most of a join encoding.
///
/// The caller reserves an upper bound first (``JSONWriter/writeDirect(bound:_:)``); every write checks it, so a
/// wrong bound stops the process instead of writing past the reservation. The text is byte for byte what
/// ``JSONWriter`` writes for the same values: strings and integers go through CircleJSON's own escaping and number
/// writing, into the reservation instead of an array; tests compare the two.
struct DirectJSONWriter {
    private let base: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    private(set) var count = 0

    init(base: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    /// The most bytes ``string(_:)`` writes for `s`: quotes, and six bytes (`\u00XX`) per byte at worst.
    @inline(__always)
    static func bound(_ s: String) -> Int { jsonEscapedBound(s.utf8.count) }

    /// The most bytes ``wireName(_:)`` writes: every wire name (an enum's raw value) is under 30 plain bytes.
    static let wireNameBound = 32

    /// The most bytes ``int(_:)`` writes.
    static let intBound = jsonIntegerBound

    /// Constant text copied as it is (punctuation and keys, e.g. `,"name":`); it must be valid where it goes.
    @inline(__always)
    mutating func raw(_ s: StaticString) {
        let n = s.utf8CodeUnitCount
        precondition(count + n <= capacity, "DirectJSONWriter: bound exceeded")
        (base + count).update(from: s.utf8Start, count: n)
        count += n
    }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        precondition(count < capacity, "DirectJSONWriter: bound exceeded")
        base[count] = b
        count += 1
    }

    /// A string value: quoted, escaped exactly as `jsonEscape` does (`\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`,
    /// other bytes below 0x20 as `\u00xx`; everything else as it is).
    @inline(__always)
    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in string(utf8: utf8) }
    }

    /// A wire name (an enum's raw value: a few plain ASCII bytes, reserved at ``wireNameBound``), quoted. Anything
    /// else stops the process rather than write unescaped text.
    @inline(__always)
    mutating func wireName(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            precondition(utf8.count + 2 <= Self.wireNameBound && count + 2 + utf8.count <= capacity,
                         "DirectJSONWriter: bound exceeded")
            var i = count
            base[i] = 0x22
            i += 1
            for b in utf8 {
                precondition(b >= 0x20 && b < 0x80 && b != 0x22 && b != 0x5C, "DirectJSONWriter: not a wire name")
                base[i] = b
                i += 1
            }
            base[i] = 0x22
            count = i + 1
        }
    }

    mutating func string(utf8: UnsafeBufferPointer<UInt8>) {
        // The reservation counts every string at its worst case (``bound(_:)``), so one check covers it.
        precondition(count + jsonEscapedBound(utf8.count) <= capacity, "DirectJSONWriter: bound exceeded")
        count += jsonEscape(utf8: UnsafeRawBufferPointer(utf8), to: base + count)
    }

    /// An integer, exactly.
    mutating func int(_ value: Int) {
        precondition(count + Self.intBound <= capacity, "DirectJSONWriter: bound exceeded")
        count += jsonInteger(value, to: base + count)
    }

    @inline(__always)
    mutating func bool(_ b: Bool) {
        if b { raw("true") } else { raw("false") }
    }

    /// A duration as whole milliseconds (as ``JSONWriter``'s `member(_:milliseconds:)` writes it).
    @inline(__always)
    mutating func milliseconds(_ d: Duration) { int(Int(d.wholeMilliseconds)) }
}

extension JSONWriter {
    /// Writes one value through a ``DirectJSONWriter``: a comma first when the text so far needs one (as every
    /// token-at-a-time value gets), then what `body` writes, at most `bound` bytes. The reservation is filled once
    /// (one `memset`) and the unused tail dropped.
    @inline(__always)
    mutating func writeDirect(bound: Int, _ body: (inout DirectJSONWriter) -> Void) {
        let comma = needsSeparator
        let reserved = bound + (comma ? 1 : 0)
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: reserved))
        let written = bytes.withUnsafeMutableBufferPointer { buffer in
            var d = DirectJSONWriter(base: buffer.baseAddress! + start, capacity: reserved)
            if comma { d.raw(",") }
            body(&d)
            return d.count
        }
        bytes.removeLast(reserved - written)
    }
}
