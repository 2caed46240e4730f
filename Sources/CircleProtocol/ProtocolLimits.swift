import CircleJSON

/// Caps applied to every client message before and while it is decoded. Exceeding one is a decode failure (an
/// `error` reply), never a crash and never an allocation proportional to the excess.
public struct ProtocolLimits: Hashable, Sendable {
    /// The longest message text, in bytes (the WebSocket layer caps a message at the same size before it gets here).
    /// A longer text is refused with `too_large` without being parsed.
    public var maxMessageBytes: Int
    /// The deepest nesting of arrays and objects; the message object itself is at depth 1, so a signal payload may
    /// nest `maxDepth - 1` levels. The parser recurses once per level: keep this modest.
    public var maxDepth: Int
    /// The longest string (a value or a key) anywhere in a message, in UTF-8 bytes after unescaping.
    public var maxStringBytes: Int
    /// The most elements one array, or members one object, may have.
    public var maxMembers: Int
    /// The longest request `id`, in UTF-8 bytes.
    public var maxRequestIDBytes: Int

    /// Limits; every argument has the default shown.
    public init(
        maxMessageBytes: Int = 128 * 1024,
        maxDepth: Int = 32,
        maxStringBytes: Int = 64 * 1024,
        maxMembers: Int = 1024,
        maxRequestIDBytes: Int = 64
    ) {
        self.maxMessageBytes = maxMessageBytes
        self.maxDepth = maxDepth
        self.maxStringBytes = maxStringBytes
        self.maxMembers = maxMembers
        self.maxRequestIDBytes = maxRequestIDBytes
    }

    /// The parser's share of these limits.
    var json: JSONLimits {
        JSONLimits(maxDepth: maxDepth, maxStringBytes: maxStringBytes, maxMembers: maxMembers)
    }
}
