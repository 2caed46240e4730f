import CircleBytes
import CircleCrypto
import CircleJSON
import CircleRoom

/// Verifies HS256 JWTs (RFC 7519, compact JWS per RFC 7515) that admit a participant to a room.
///
/// Checks, in order, each failing with the ``TokenError`` shown:
/// 1. empty → `missing`; over ``maxTokenBytes`` → `malformed` (before any other work);
/// 2. exactly three non-empty segments (the signature's may be empty), each only unpadded base64url symbols
///    (`=` is rejected) → else `malformed`;
/// 3. the header is a JSON object whose `alg` is a string (→ else `malformed`) equal to `HS256`
///    (→ else `unsupportedAlgorithm`, which covers `none`); `typ`, if present, is "JWT" in any case, and `crit` is
///    absent (no extensions are understood) → else `malformed`;
/// 4. the HMAC-SHA256 of `header.payload` equals the signature, compared in constant time → else `badSignature`.
///    Nothing in the payload is decoded before this;
/// 5. the payload is a JSON object with valid claims (see ``TokenClaims``) → else `invalidClaims(name)`;
/// 6. its `room` equals `room`, byte for byte → else `wrongRoom`;
/// 7. `exp > now - leeway` → else `expired`; `nbf`, if present, `≤ now + leeway` → else `notYetValid`;
///    `exp ≤ now + maxLifetime + leeway` → else `invalidClaims("exp")` (no token outlives the longest lifetime).
///
/// The caller strips any `Bearer ` prefix. Pure: the clock is an argument.
public struct TokenVerifier: Sendable {
    /// The largest accepted token, in bytes.
    public static let maxTokenBytes = 4096

    private static let jsonLimits = JSONLimits(maxDepth: 8, maxStringBytes: maxTokenBytes, maxMembers: 256)

    /// The HMAC-SHA256 under the secret, keyed once (see ``HMACSHA256`` for its thread safety).
    private let mac: HMACSHA256
    private let leeway: Int64
    private let maxLifetime: Int64

    /// The header every token minted by ``TokenMinter`` carries, base64url: `{"alg":"HS256","typ":"JWT"}`.
    /// A header segment equal to it is known to pass step 3 without decoding it.
    private static let mintedHeader: [UInt8] = Array(TokenMinter.encodedHeader.utf8)

    /// - Parameters:
    ///   - secret: the HMAC key shared with the token issuer; must not be empty (use at least 32 random bytes).
    ///   - leeway: seconds of clock skew tolerated on `exp` and `nbf`; must not be negative.
    ///   - maxLifetime: the furthest ahead an `exp` may be, in seconds (default: one day).
    public init(secret: [UInt8], leeway: Int64 = 0, maxLifetime: Int64 = 86_400) {
        precondition(!secret.isEmpty, "TokenVerifier needs a non-empty secret")
        precondition(leeway >= 0, "TokenVerifier leeway must not be negative")
        precondition(maxLifetime > 0, "TokenVerifier maxLifetime must be positive")
        self.mac = HMACSHA256(key: secret)
        self.leeway = leeway
        self.maxLifetime = maxLifetime
    }

    /// Verifies `token` for the room named in the request path.
    /// - Parameter now: the current time in Unix seconds (passed in; never read inside).
    public func verify(_ token: String, room: String, now: Int64) -> Result<TokenClaims, TokenError> {
        let length = token.utf8.count
        guard length > 0 else { return .failure(.missing) }
        guard length <= Self.maxTokenBytes else { return .failure(.malformed) }
        var token = token
        return token.withUTF8 { bytes in
            Result { () throws(TokenError) in try check(UnsafeRawBufferPointer(bytes), room: room, now: now) }
        }
    }

    private func check(_ bytes: UnsafeRawBufferPointer, room: String, now: Int64) throws(TokenError) -> TokenClaims {
        let segments = try Segments(bytes)
        let header = UnsafeRawBufferPointer(rebasing: bytes[segments.header])
        if !header.elementsEqual(Self.mintedHeader) { try checkHeader(header) }
        try checkSignature(UnsafeRawBufferPointer(rebasing: bytes[segments.signature]),
                           of: UnsafeRawBufferPointer(rebasing: bytes[segments.signingInput]))

        let payload = try decodeObject(UnsafeRawBufferPointer(rebasing: bytes[segments.payload]))
        let claims = try TokenClaims(payload: payload)
        guard claims.room.utf8.elementsEqual(room.utf8) else { throw .wrongRoom }
        let (earliestLiveExpiry, expiryOverflow) = now.subtractingReportingOverflow(leeway)
        if !expiryOverflow, claims.exp <= earliestLiveExpiry { throw .expired }
        let (latestStart, startOverflow) = now.addingReportingOverflow(leeway)
        if let nbf = claims.nbf, !startOverflow, nbf > latestStart { throw .notYetValid }
        let (window, windowOverflow) = maxLifetime.addingReportingOverflow(leeway)
        let (latestExpiry, expiryPastRange) = now.addingReportingOverflow(window)
        if !windowOverflow, !expiryPastRange, claims.exp > latestExpiry { throw .invalidClaims("exp") }
        return claims
    }

    /// Decodes the signature (`malformed` if it is not canonical base64url) and compares it in constant time with
    /// the MAC of `signingInput` (`badSignature`). Both live on the stack: a signature segment of a token within
    /// ``maxTokenBytes`` decodes to at most 3 KiB.
    private func checkSignature(_ segment: UnsafeRawBufferPointer, of signingInput: UnsafeRawBufferPointer)
        throws(TokenError)
    {
        let matches = withUnsafeTemporaryAllocation(byteCount: segment.count * 3 / 4 + HMACSHA256.byteCount,
                                                    alignment: 8) { buffer -> Bool? in
            let signatureSpace = UnsafeMutableRawBufferPointer(rebasing: buffer[HMACSHA256.byteCount...])
            guard let length = Base64.decodeURL(segment, into: signatureSpace) else { return nil }
            let expected = UnsafeMutableRawBufferPointer(rebasing: buffer[..<HMACSHA256.byteCount])
            mac.authenticate(signingInput, into: expected)
            return Crypto.constantTimeEqual(UnsafeRawBufferPointer(expected),
                                            UnsafeRawBufferPointer(rebasing: signatureSpace[..<length]))
        }
        guard let matches else { throw .malformed }
        guard matches else { throw .badSignature }
    }

    private func checkHeader(_ segment: UnsafeRawBufferPointer) throws(TokenError) {
        let header = try decodeObject(segment)
        guard let alg = header["alg"]?.stringValue else { throw .malformed }
        guard alg == "HS256" else { throw .unsupportedAlgorithm }
        if let typ = header["typ"] {
            guard let value = typ.stringValue, value.lowercased() == "jwt" else { throw .malformed }
        }
        guard header["crit"] == nil else { throw .malformed }
    }

    /// Decodes one base64url segment holding a JSON object.
    private func decodeObject(_ segment: UnsafeRawBufferPointer) throws(TokenError) -> JSONObject {
        let capacity = segment.count * 3 / 4
        let object = withUnsafeTemporaryAllocation(byteCount: capacity, alignment: 8) { buffer -> JSONObject? in
            guard let length = Base64.decodeURL(segment, into: buffer),
                  let value = try? JSON.parse(UnsafeRawBufferPointer(rebasing: buffer[..<length]),
                                              limits: Self.jsonLimits),
                  case .object(let object) = value
            else { return nil }
            return object
        }
        guard let object else { throw .malformed }
        return object
    }
}

/// The byte ranges of a compact JWS's three segments.
private struct Segments {
    let header: Range<Int>
    let payload: Range<Int>
    let signature: Range<Int>
    /// `header.payload`, the bytes the signature covers.
    var signingInput: Range<Int> { header.lowerBound..<payload.upperBound }

    init(_ token: UnsafeRawBufferPointer) throws(TokenError) {
        let dot = UInt8(ascii: ".")
        guard let first = token.firstIndex(of: dot),
              let second = token[(first + 1)...].firstIndex(of: dot),
              !token[(second + 1)...].contains(dot),
              first > 0, second > first + 1
        else { throw .malformed }
        header = 0..<first
        payload = (first + 1)..<second
        signature = (second + 1)..<token.count
        guard Self.isBase64URL(token[header]), Self.isBase64URL(token[payload]), Self.isBase64URL(token[signature])
        else { throw .malformed }
    }

    /// Whether `segment` could be unpadded base64url: only `A-Z a-z 0-9 - _`, and not one symbol past a whole
    /// group. A shape check only; nothing is decoded, so the payload is still untouched before the signature.
    private static func isBase64URL(_ segment: Slice<UnsafeRawBufferPointer>) -> Bool {
        guard segment.count % 4 != 1 else { return false }
        for byte in UnsafeRawBufferPointer(rebasing: segment) {
            let word = byte < 64 ? Self.symbolsBelow64 : byte < 128 ? Self.symbolsFrom64 : 0
            if word >> UInt64(byte & 63) & 1 == 0 { return false }
        }
        return true
    }

    /// Bit `b` is set for each byte `b` below 64 of `0-9 -`; bit `b - 64` for each byte from 64 of `A-Z a-z _`
    /// (every byte value is tried in `TokenFastPathTests`).
    static let symbolsBelow64: UInt64 = 0x03FF200000000000
    static let symbolsFrom64: UInt64 = 0x07FFFFFE87FFFFFE
}

extension TokenClaims {
    /// Reads and validates the claims of a verified payload.
    init(payload: JSONObject) throws(TokenError) {
        guard let sub = payload["sub"]?.stringValue, !sub.isEmpty, sub.utf8.count <= Self.maxSubjectBytes,
              !Self.hasControlCharacter(sub) else {
            throw .invalidClaims("sub")
        }
        guard let name = payload["name"]?.stringValue, !name.isEmpty, name.utf8.count <= Self.maxNameBytes,
              !Self.hasControlCharacter(name) else {
            throw .invalidClaims("name")
        }
        guard let room = payload["room"]?.stringValue, !room.isEmpty else { throw .invalidClaims("room") }
        guard let roleName = payload["role"]?.stringValue, let role = Role(rawValue: roleName) else {
            throw .invalidClaims("role")
        }
        guard let exp = Self.numericDate(payload["exp"]) else { throw .invalidClaims("exp") }
        var nbf: Int64?
        if let value = payload["nbf"] {
            guard let date = Self.numericDate(value) else { throw .invalidClaims("nbf") }
            nbf = date
        }
        var iat: Int64?
        if let value = payload["iat"] {
            guard let date = Self.numericDate(value) else { throw .invalidClaims("iat") }
            iat = date
        }
        self.init(sub: sub, name: name, room: room, role: role, exp: exp, nbf: nbf, iat: iat)
    }

    /// Whether `text` holds a control character (C0, DEL, C1) or a line or paragraph separator: none belongs in an
    /// id or a display name, and each could forge lines or fields wherever the text is shown or logged.
    static func hasControlCharacter(_ text: String) -> Bool { ControlCharacters.occur(in: text) }

    /// A NumericDate (RFC 7519 §2): a JSON number of seconds, possibly fractional, rounded down; nil if absent,
    /// not a number, or outside `Int64`.
    static func numericDate(_ value: JSON?) -> Int64? {
        guard let seconds = value?.doubleValue else { return nil }
        let whole = seconds.rounded(.down)
        guard whole >= -0x1p63, whole < 0x1p63 else { return nil }
        return Int64(whole)
    }
}
