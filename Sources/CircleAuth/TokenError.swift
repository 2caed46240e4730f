/// Why a token was refused. Every case maps to HTTP 401; ``reason`` is the response body.
public enum TokenError: Error, Equatable, Sendable {
    /// No token was presented.
    case missing
    /// Not a well-formed compact JWS (segments, base64url, JSON, header fields), or over the size cap.
    case malformed
    /// The HMAC does not match.
    case badSignature
    /// The header's `alg` is anything but `HS256` (`none` included).
    case unsupportedAlgorithm
    /// `exp` has passed.
    case expired
    /// `nbf` is still in the future.
    case notYetValid
    /// The token is for a different room than the one requested.
    case wrongRoom
    /// A claim is missing or invalid; the associated value names the claim (for example "exp"), never its content.
    case invalidClaims(String)

    /// A short human reason for the HTTP 401 body. Never contains token content.
    public var reason: String {
        switch self {
        case .missing: "token missing"
        case .malformed: "token malformed"
        case .badSignature: "token signature invalid"
        case .unsupportedAlgorithm: "token algorithm not supported"
        case .expired: "token expired"
        case .notYetValid: "token not yet valid"
        case .wrongRoom: "token is for another room"
        case .invalidClaims(let claim): "token claim invalid: \(claim)"
        }
    }
}
