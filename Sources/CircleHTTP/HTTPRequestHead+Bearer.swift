extension HTTPRequestHead {
    /// The token of `Authorization: Bearer <token>` (RFC 6750 §2.1: the scheme in any case, spaces after it);
    /// nil when there is none.
    public var bearerToken: String? {
        guard let value = header("Authorization") else { return nil }
        let prefix = "bearer "
        guard value.utf8.count > prefix.utf8.count, value.lowercased().hasPrefix(prefix) else { return nil }
        let token = String(value.dropFirst(prefix.count).drop { $0 == " " || $0 == "\t" })
        return token.isEmpty ? nil : token
    }
}
