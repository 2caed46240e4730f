import CircleCrypto
import CircleJSON

/// Creates HS256 JWTs (compact JWS, RFC 7515 §7.1) with the header `{"alg":"HS256","typ":"JWT"}`.
public enum TokenMinter {
    /// The base64url of the fixed header.
    static let encodedHeader = Base64.encodeURL(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))

    /// Signs `claims` with `secret`. Writes exactly what it is given (`nbf`/`iat` only when set); it does not
    /// check the claims, so a token minted from invalid claims will fail ``TokenVerifier/verify(_:room:now:)``.
    public static func mint(_ claims: TokenClaims, secret: [UInt8]) -> String {
        var payload = JSONWriter(capacity: 160)
        payload.beginObject()
        payload.key("sub"); payload.string(claims.sub)
        payload.key("name"); payload.string(claims.name)
        payload.key("room"); payload.string(claims.room)
        payload.key("role"); payload.string(claims.role.rawValue)
        payload.key("exp"); payload.int(Int(claims.exp))
        if let nbf = claims.nbf { payload.key("nbf"); payload.int(Int(nbf)) }
        if let iat = claims.iat { payload.key("iat"); payload.int(Int(iat)) }
        payload.endObject()

        let signingInput = encodedHeader + "." + Base64.encodeURL(payload.bytes)
        let signature = Crypto.hmacSHA256(key: secret, data: Array(signingInput.utf8))
        return signingInput + "." + Base64.encodeURL(signature)
    }
}
