import CircleCrypto

/// The operator's credential for erasing records (`DELETE /groups/{id}/participants/{sub}`): a random secret read
/// from `--operator-secret-file`, sent as `Authorization: Bearer <secret>` and compared in constant time. It is not a
/// participant token, so no token minted for a group can erase anything.
public struct OperatorCredential: Sendable {
    public static let minimumByteCount = 32
    private let secret: [UInt8]

    /// The file's text without surrounding whitespace; nil when shorter than 32 bytes.
    public init?(fileText: String) {
        let space: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        var bytes = Array(fileText.utf8.drop(while: space))
        while let last = bytes.last, space(last) { bytes.removeLast() }
        guard bytes.count >= Self.minimumByteCount else { return nil }
        secret = bytes
    }

    public func accepts(_ presented: String) -> Bool {
        let p = Array(presented.utf8)
        return p.count == secret.count && Crypto.constantTimeEqual(p, secret)
    }

    /// What the erasure log line carries instead of the sub: 16 hex digits of HMAC-SHA256(secret, group NUL sub).
    /// Whoever holds the secret and knows the sub can match it; the log alone names nobody.
    public func tag(group: String, sub: String) -> String {
        let mac = Crypto.hmacSHA256(key: secret, data: Array(group.utf8) + [0] + Array(sub.utf8))
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: mac.prefix(8).flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }
}
