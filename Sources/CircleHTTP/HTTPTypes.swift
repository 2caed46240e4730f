/// Caps applied while a head is parsed, each checked before any byte it covers is stored.
public struct HTTPLimits: Sendable, Equatable {
    /// The whole head, from the first byte (including ignored leading empty lines) to the final empty line's LF.
    public var maxHeadBytes: Int
    /// Header fields allowed in one head.
    public var maxHeaderCount: Int
    /// One line's content, excluding its CRLF.
    public var maxLineBytes: Int

    /// Limits with defaults suited to a signaling server: 8 KiB head, 64 fields, 4 KiB per line.
    public init(maxHeadBytes: Int = 8192, maxHeaderCount: Int = 64, maxLineBytes: Int = 4096) {
        self.maxHeadBytes = maxHeadBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxLineBytes = maxLineBytes
    }
}

/// One header field as received or to be sent. Names keep their case; lookups compare ASCII case-insensitively.
public struct HTTPHeader: Sendable, Equatable {
    /// The field name (a token).
    public var name: String
    /// The field value with surrounding whitespace removed.
    public var value: String

    /// A header field.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Why a head was refused: the status to answer with and a short reason that never quotes the input.
public struct HTTPError: Error, Sendable, Equatable {
    /// The HTTP status code to respond with (400, 414, 431, 505, ...).
    public var status: Int
    /// A fixed, human-readable explanation, safe to log and to send back.
    public var reason: String

    /// An error with a specific reason, or the status's standard reason phrase.
    public init(status: Int, reason: String? = nil) {
        self.status = status
        self.reason = reason ?? HTTPResponse.reasonPhrase(status)
    }
}

extension HTTPHeader {
    /// Whether `a` and `b` name the same field: ASCII case-insensitive, other bytes exactly. Allocates nothing.
    public static func nameEquals(_ a: String, _ b: String) -> Bool { HTTPSyntax.equalsIgnoringCase(a, b) }
}
