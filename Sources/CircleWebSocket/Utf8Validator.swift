/// An incremental UTF-8 validator (Unicode Table 3-7): rejects overlong forms, surrogates (U+D800–U+DFFF),
/// code points above U+10FFFF and stray or missing continuation bytes, at the first byte that makes the input
/// invalid, across any split of the input. ASCII runs are skipped eight bytes at a time.
///
/// Four bytes of state; once invalid it stays invalid until `reset()`.
public struct Utf8Validator: Sendable, Equatable {
    /// Continuation bytes still expected by the current sequence (0 between code points).
    private var pending: UInt8 = 0
    /// The allowed range of the next continuation byte.
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF
    /// Set at the first invalid byte.
    public private(set) var isInvalid = false

    /// A validator at the start of a text.
    public init() {}

    /// Whether everything fed so far is valid and ends on a code point boundary (no truncated sequence).
    public var isComplete: Bool { !isInvalid && pending == 0 }

    /// Validates the next bytes; returns false as soon as the input so far cannot be valid UTF-8.
    @discardableResult
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !isInvalid else { return false }
        guard let base = bytes.baseAddress else { return true }
        let n = bytes.count
        var i = 0
        while i < n {
            if pending == 0 {
                while i + 8 <= n, base.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                    i += 8
                }
                guard i < n else { break }
            }
            if !step(base.load(fromByteOffset: i, as: UInt8.self)) {
                isInvalid = true
                return false
            }
            i += 1
        }
        return true
    }

    /// Validates the next bytes of an array.
    @discardableResult
    public mutating func feed(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// Forgets everything fed so far.
    public mutating func reset() { self = Utf8Validator() }

    /// Whether `bytes` is, as a whole, valid UTF-8.
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var v = Utf8Validator()
        return v.feed(bytes) && v.isComplete
    }

    /// Whether `bytes` is, as a whole, valid UTF-8.
    public static func isValid(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { isValid($0) }
    }

    @inline(__always)
    private mutating func step(_ b: UInt8) -> Bool {
        if pending > 0 {
            guard b >= lower && b <= upper else { return false }
            pending -= 1
            lower = 0x80
            upper = 0xBF
            return true
        }
        switch b {
        case 0x00...0x7F: return true
        case 0xC2...0xDF: pending = 1
        case 0xE0: pending = 2; lower = 0xA0          // no overlong 3-byte forms
        case 0xE1...0xEC, 0xEE...0xEF: pending = 2
        case 0xED: pending = 2; upper = 0x9F          // no surrogates
        case 0xF0: pending = 3; lower = 0x90          // no overlong 4-byte forms
        case 0xF1...0xF3: pending = 3
        case 0xF4: pending = 3; upper = 0x8F          // nothing above U+10FFFF
        default: return false                          // 0x80–0xC1 (stray continuation, overlong 2-byte), 0xF5+
        }
        return true
    }
}
