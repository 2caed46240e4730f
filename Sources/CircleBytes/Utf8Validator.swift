/// An incremental UTF-8 validator (Unicode Table 3-7): rejects overlong forms, surrogates (U+D800–U+DFFF),
/// code points above U+10FFFF and stray or missing continuation bytes, at the first byte that makes the input
/// invalid, across any split of the input. ASCII runs are skipped eight bytes at a time.
///
/// Four bytes of state; once invalid it stays invalid until `reset()`.
public struct Utf8Validator: Sendable, Equatable {
    /// Continuation bytes still expected by the current sequence (0 between code points).
    @usableFromInline var pending: UInt8 = 0
    /// The allowed range of the next continuation byte.
    @usableFromInline var lower: UInt8 = 0x80
    @usableFromInline var upper: UInt8 = 0xBF
    /// Set at the first invalid byte.
    public private(set) var isInvalid = false

    /// A validator at the start of a text.
    @inlinable
    public init() {}

    /// Whether everything fed so far is valid and ends on a code point boundary (no truncated sequence).
    @inlinable
    public var isComplete: Bool { !isInvalid && pending == 0 }

    /// Validates the next bytes; returns false as soon as the input so far cannot be valid UTF-8.
    @inlinable @discardableResult
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !isInvalid else { return false }
        guard let base = bytes.baseAddress else { return true }
        let n = bytes.count
        var i = 0
        while i < n {
            if pending == 0 {
                i = WordScan.skipWords(bytes, from: i, to: n, mask: WordScan.nonASCIIMask)
                guard i < n else { break }
            }
            if !step(base.load(fromByteOffset: i, as: UInt8.self)) {
                markInvalid()
                return false
            }
            i += 1
        }
        return true
    }

    /// Validates the next bytes of an array.
    @inlinable @discardableResult
    public mutating func feed(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// Forgets everything fed so far.
    @inlinable
    public mutating func reset() { self = Utf8Validator() }

    /// Whether `bytes` is, as a whole, valid UTF-8.
    @inlinable
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var v = Utf8Validator()
        return v.feed(bytes) && v.isComplete
    }

    /// Whether `bytes` is, as a whole, valid UTF-8.
    @inlinable
    public static func isValid(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { isValid($0) }
    }

    /// The length (2...4) of the valid sequence whose non-ASCII lead byte is at `i`, or 0 if it is not one
    /// (a byte that cannot lead, a continuation out of range, or the input ends first).
    @inlinable
    public static func sequenceLength(_ bytes: UnsafeRawBufferPointer, at i: Int) -> Int {
        guard let (more, low, high) = lead(bytes[i]), more > 0 else { return 0 }
        let n = Int(more) + 1
        guard i + n <= bytes.count, bytes[i + 1] >= low && bytes[i + 1] <= high else { return 0 }
        for j in (i + 2)..<(i + n) where bytes[j] < 0x80 || bytes[j] > 0xBF { return 0 }
        return n
    }

    /// For a byte that can start a code point: how many continuation bytes follow and the range of the first one;
    /// nil for one that cannot (0x80–0xC1: stray continuation or overlong 2-byte form; 0xF5 and above).
    @inlinable @inline(__always)
    static func lead(_ b: UInt8) -> (more: UInt8, low: UInt8, high: UInt8)? {
        switch b {
        case 0x00...0x7F: (0, 0x80, 0xBF)
        case 0xC2...0xDF: (1, 0x80, 0xBF)
        case 0xE0: (2, 0xA0, 0xBF)                      // no overlong 3-byte forms
        case 0xE1...0xEC, 0xEE...0xEF: (2, 0x80, 0xBF)
        case 0xED: (2, 0x80, 0x9F)                      // no surrogates
        case 0xF0: (3, 0x90, 0xBF)                      // no overlong 4-byte forms
        case 0xF1...0xF3: (3, 0x80, 0xBF)
        case 0xF4: (3, 0x80, 0x8F)                      // nothing above U+10FFFF
        default: nil
        }
    }

    @inlinable @inline(__always)
    mutating func step(_ b: UInt8) -> Bool {
        if pending > 0 {
            guard b >= lower && b <= upper else { return false }
            pending -= 1
            lower = 0x80
            upper = 0xBF
            return true
        }
        guard let (more, low, high) = Self.lead(b) else { return false }
        (pending, lower, upper) = (more, low, high)
        return true
    }

    @usableFromInline
    mutating func markInvalid() { isInvalid = true }
}
