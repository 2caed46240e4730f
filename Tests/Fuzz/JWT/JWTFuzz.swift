// The JWT verifier. Each input is tried three ways: as a token as it comes (it can never pass: that would be a
// forged signature); as the JSON of a header and a payload (`header LF payload`, or a payload alone under the
// minted header) that the harness signs with the right secret, so the claims checks are reached; and as claims for
// the minter, whose token must verify to the same claims. Base64url, which carries every segment, must round-trip.
@testable import CircleAuth
import CircleCrypto
import CircleJSON
import CircleRoom

let secret = Array("fuzz-secret-0123456789abcdef-0123".utf8)
let verifier = TokenVerifier(secret: secret, leeway: 30)
let now: Int64 = 1_800_000_000
let mintedHeader = Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJWT(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: data, count: count))

    if case .success = verifier.verify(String(decoding: bytes, as: UTF8.self), room: "r1", now: now) {
        require(false, "an unsigned input verified")
    }

    let newline = bytes.firstIndex(of: 0x0A)
    let header = newline.map { Array(bytes[..<$0]) } ?? mintedHeader
    let payload = newline.map { Array(bytes[($0 + 1)...]) } ?? bytes
    checkSigned(header: header, payload: payload)

    checkMinted(FuzzReader(bytes))

    let encoded = Base64.encodeURL(bytes)
    require(Base64.decodeURL(Array(encoded.utf8)) == bytes, "base64url does not round-trip")
    require(Base64.decode(Array(Base64.encode(bytes).utf8)) == bytes, "base64 does not round-trip")
    return 0
}

/// Signs `header.payload` correctly: the verdict is never a bad signature, and a token that passes holds exactly
/// the claims its payload spells (read here from the JSON tree), and mints back to the same claims.
func checkSigned(header: [UInt8], payload: [UInt8]) {
    let tree = try? JSON.parse(payload)
    let room = tree?["room"]?.stringValue ?? "r1"
    let signingInput = Base64.encodeURL(header) + "." + Base64.encodeURL(payload)
    let token = signingInput + "." + Base64.encodeURL(Crypto.hmacSHA256(key: secret, data: Array(signingInput.utf8)))
    switch verifier.verify(token, room: room, now: now) {
    case .success(let claims):
        guard case .object(let object)? = tree else { return require(false, "a payload that is no object verified") }
        require(object["sub"]?.stringValue == claims.sub && object["name"]?.stringValue == claims.name
                && object["role"]?.stringValue == claims.role.rawValue && claims.room == room,
                "claims differ from the payload")
        let exp = object["exp"]?.doubleValue ?? .nan
        require(exp.rounded(.down) == Double(claims.exp), "exp differs from the payload")
        require(claims.exp > now - 30 && claims.exp <= now + 86_400 + 30 && (claims.nbf ?? now) <= now + 30,
                "a token outside its time verified")
        require(!hasControl(claims.sub) && !hasControl(claims.name), "a sub or name with a control character verified")
        require(TokenClaims.numericDate(object["nbf"]) == claims.nbf, "nbf differs from the payload")
        let header = try? JSON.parse(header)
        require(header?["alg"] == "HS256", "a header without alg HS256 verified")
        checkMintedRoundTrip(claims)
    case .failure(let error):
        require(error != .badSignature, "a correctly signed token has a bad signature")
        require(error != .missing, "a token reported missing")
    }
}

/// Claims drawn from the fuzz bytes: minted, they verify to the same claims, unless one is out of what the verifier
/// admits (an empty or over-long string, control characters in `sub` or `name`).
func checkMinted(_ reader: FuzzReader) {
    var r = reader
    let exp = Int64(truncatingIfNeeded: r.uint64()) >> 11  // within ±2^52: exact as a double
    let claims = TokenClaims(sub: r.string(max: 140), name: r.string(max: 140), room: r.string(max: 40),
                             role: r.pick(Role.allCases), exp: exp,
                             nbf: r.bool() ? exp - Int64(r.below(200)) : nil, iat: r.bool() ? exp - 5 : nil)
    let token = TokenMinter.mint(claims, secret: secret)
    let clock = exp - 1
    switch verifier.verify(token, room: claims.room, now: clock) {
    case .success(let verified):
        require(verified == claims, "minted claims verify as \(verified)")
    case .failure(let error):
        let admissible = [claims.sub, claims.name].allSatisfy { s in
            !s.isEmpty && s.utf8.count <= 128 && !hasControl(s)
        } && !claims.room.isEmpty
        let early = (claims.nbf ?? clock) > clock + 30
        require(!admissible || early, "minted claims refused: \(error)")
    }
}

/// Control characters (C0, DEL, C1) and the line and paragraph separators: refused in `sub` and `name`.
func hasControl(_ s: String) -> Bool {
    s.unicodeScalars.contains { $0.properties.generalCategory == .control || $0.value == 0x2028 || $0.value == 0x2029 }
}

/// A verified token's claims, minted again, verify to themselves.
func checkMintedRoundTrip(_ claims: TokenClaims) {
    let token = TokenMinter.mint(claims, secret: secret)
    let result = verifier.verify(token, room: claims.room, now: now)
    require(result == .success(claims), "re-minted claims verify as \(result)")
}
