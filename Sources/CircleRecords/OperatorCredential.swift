import CircleCrypto

/// The operator's credential for erasing records (`DELETE /groups/{id}/participants/{sub}`): a random secret read
/// from `--operator-secret-file`, sent as `Authorization: Bearer <secret>` and compared in constant time. It is not a
/// participant token, so no token minted for a group can erase anything.
public struct OperatorCredential: Sendable {
    public static let minimumByteCount = 32
    private let secret: [UInt8]

    /// The file's text without surrounding whitespace; nil when shorter than 32 bytes.
    public init?(fileText: String) {
        let trimmed = fileText.utf8.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        var bytes = Array(trimmed)
        while let last = bytes.last, last == 0x20 || last == 0x09 || last == 0x0A || last == 0x0D { bytes.removeLast() }
        guard bytes.count >= Self.minimumByteCount else { return nil }
        secret = bytes
    }

    public func accepts(_ presented: String) -> Bool {
        let p = Array(presented.utf8)
        return p.count == secret.count && Crypto.constantTimeEqual(p, secret)
    }
}
