import CircleRoom

/// The claims Circle reads from a join token.
///
/// Validation rules (enforced by ``TokenVerifier``, not by this type):
/// - `sub`: the participant id, a non-empty string of at most ``maxSubjectBytes`` UTF-8 bytes.
/// - `name`: the display name, a non-empty string of at most ``maxNameBytes`` UTF-8 bytes (a participant is always
///   shown by some name, so an empty one is an issuer bug and is rejected).
/// - Neither `sub` nor `name` may hold a control character (U+0000–U+001F, U+007F–U+009F) or U+2028/U+2029.
/// - `room`: the room id; must equal the room the connection asks for.
/// - `role`: one of ``Role``'s raw values.
/// - `exp`: required expiry in Unix seconds; `nbf` (not before) and `iat` (issued at) are optional. Non-integer
///   NumericDates are accepted and rounded down.
///
/// Other claims (`iss`, `aud`, `jti`, …) are ignored.
public struct TokenClaims: Sendable, Equatable {
    /// The longest accepted `sub`, in UTF-8 bytes.
    public static let maxSubjectBytes = 128
    /// The longest accepted `name`, in UTF-8 bytes.
    public static let maxNameBytes = 128

    /// The participant id.
    public var sub: String
    /// The participant's display name. Confidential: never log it.
    public var name: String
    /// The room id the token admits to.
    public var room: String
    /// The participant's role.
    public var role: Role
    /// Expiry, Unix seconds.
    public var exp: Int64
    /// Not valid before, Unix seconds.
    public var nbf: Int64?
    /// Issued at, Unix seconds.
    public var iat: Int64?

    /// Creates claims.
    public init(
        sub: String, name: String, room: String, role: Role, exp: Int64, nbf: Int64? = nil,
        iat: Int64? = nil
    ) {
        self.sub = sub
        self.name = name
        self.room = room
        self.role = role
        self.exp = exp
        self.nbf = nbf
        self.iat = iat
    }
}
