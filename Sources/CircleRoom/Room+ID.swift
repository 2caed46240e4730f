extension Room {
    /// Room (group) ids: 1–64 characters of `A-Z a-z 0-9 - _ .`.
    public static func isValidID<S: StringProtocol>(_ id: S) -> Bool {
        let utf8 = id.utf8
        guard (1...64).contains(utf8.count) else { return false }
        return utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == 0x2D || c == 0x5F || c == 0x2E
        }
    }
}
