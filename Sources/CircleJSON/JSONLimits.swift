/// Caps applied while parsing untrusted JSON. Exceeding any of them is a ``JSONError``, never a crash.
public struct JSONLimits: Sendable {
    /// The deepest nesting of arrays and objects allowed; a top-level container is at depth 1, so 0 admits only
    /// scalars. The parser recurses once per level, so this also bounds its stack use: keep it modest (≤ 1000).
    public var maxDepth = 32
    /// The longest string (a value or a key) allowed, in UTF-8 bytes after unescaping.
    public var maxStringBytes = 1 << 20
    /// The most elements one array, or members one object, may have.
    public var maxMembers = 10_000

    /// Creates limits; every argument has the default shown.
    public init(maxDepth: Int = 32, maxStringBytes: Int = 1 << 20, maxMembers: Int = 10_000) {
        self.maxDepth = maxDepth
        self.maxStringBytes = maxStringBytes
        self.maxMembers = maxMembers
    }
}

/// Why a JSON text was rejected.
///
/// `message` is a short fixed phrase (for example "duplicate key"); it never contains any of the input, so it is
/// safe to log and to send back to a client.
public struct JSONError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The byte offset in the input where the problem was found.
    public var offset: Int
    /// A short description of the problem, free of input content.
    public var message: String
    /// Whether a string was longer than `maxStringBytes`: the input was too large rather than malformed.
    public var isStringTooLong: Bool

    /// Creates an error at `offset`.
    public init(offset: Int, message: String, isStringTooLong: Bool = false) {
        self.offset = offset
        self.message = message
        self.isStringTooLong = isStringTooLong
    }

    /// "message at byte N".
    public var description: String { "\(message) at byte \(offset)" }
}
