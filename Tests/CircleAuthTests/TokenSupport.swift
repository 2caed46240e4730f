import CircleAuth
import CircleCrypto

/// Shared fixtures for the token tests.
enum Fixture {
    static let secret = Array("circle-test-secret-0123456789abcdef".utf8)
    static let otherSecret = Array("another-secret-0123456789abcdefgh".utf8)
    static let now: Int64 = 1_700_000_000
    static let room = "r-42"
    static let claims = TokenClaims(
        sub: "p-1", name: "Ada", room: room, role: .member, exp: now + 3600, nbf: now - 60, iat: now - 60)
    static let verifier = TokenVerifier(secret: secret)

    static let header = #"{"alg":"HS256","typ":"JWT"}"#
    static let payload = #"{"sub":"p-1","name":"Ada","room":"r-42","role":"member","exp":1700003600}"#

    /// A token with exactly these header and payload texts, HS256-signed with `secret`.
    static func sign(header: String = header, payload: String = payload, secret: [UInt8] = secret) -> String {
        let input = Base64.encodeURL(Array(header.utf8)) + "." + Base64.encodeURL(Array(payload.utf8))
        return input + "." + Base64.encodeURL(Crypto.hmacSHA256(key: secret, data: Array(input.utf8)))
    }

    /// A token with these header and payload texts and a given signature segment.
    static func unsigned(header: String, payload: String = payload, signature: String) -> String {
        Base64.encodeURL(Array(header.utf8)) + "." + Base64.encodeURL(Array(payload.utf8)) + "." + signature
    }

    /// Verifies with the fixture verifier for the fixture room at the fixture time.
    static func verify(_ token: String, room: String = room, now: Int64 = now) -> Result<TokenClaims, TokenError> {
        verifier.verify(token, room: room, now: now)
    }

    /// The error `token` is refused with, or nil if accepted.
    static func error(_ token: String, room: String = room, now: Int64 = now) -> TokenError? {
        if case .failure(let error) = verify(token, room: room, now: now) { return error }
        return nil
    }

    /// A payload text with the fixture's claims, `overrides` replacing (or, with nil, removing) members.
    static func payload(_ overrides: [String: String?]) -> String {
        var members: [(String, String)] = [
            ("sub", #""p-1""#), ("name", #""Ada""#), ("room", #""r-42""#), ("role", #""member""#),
            ("exp", "1700003600"),
        ]
        for (key, value) in overrides.sorted(by: { $0.key < $1.key }) {
            members.removeAll { $0.0 == key }
            if let value { members.append((key, value)) }
        }
        return "{" + members.map { #""\#($0.0)":\#($0.1)"# }.joined(separator: ",") + "}"
    }
}
