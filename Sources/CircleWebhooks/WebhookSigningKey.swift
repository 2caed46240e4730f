import CircleCrypto

/// The key webhooks are signed with, as Standard Webhooks (standardwebhooks.com) has it: the `webhook-signature`
/// header is `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`, so any of its libraries verifies Circle's.
public struct WebhookSigningKey: Sendable {
    public static let minimumByteCount = 24
    let bytes: [UInt8]

    /// `whsec_` and the key in base64 (the form Standard Webhooks libraries take), at least 24 bytes decoded;
    /// surrounding whitespace is ignored. Nil for anything else.
    public init?(text: String) {
        var t = Substring(text)
        while let c = t.first, c.isWhitespace { t.removeFirst() }
        while let c = t.last, c.isWhitespace { t.removeLast() }
        guard t.hasPrefix("whsec_"), let key = Base64.decode(Array(t.dropFirst(6).utf8)),
              key.count >= Self.minimumByteCount else { return nil }
        bytes = key
    }

    /// The `webhook-signature` header value for one delivery attempt.
    public func signature(id: String, timestamp: Int, body: [UInt8]) -> String {
        var signed = Array("\(id).\(timestamp).".utf8)
        signed += body
        return "v1," + Base64.encode(Crypto.hmacSHA256(key: bytes, data: signed))
    }
}
