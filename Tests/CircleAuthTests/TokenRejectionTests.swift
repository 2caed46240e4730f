import CircleAuth
import CircleCrypto
import Testing

@Suite("Token verification: refused tokens")
struct TokenRejectionTests {
    private static let valid = Fixture.sign()

    // MARK: presence and size

    @Test func anEmptyTokenIsMissing() {
        #expect(Fixture.error("") == .missing)
    }

    @Test func tokensOverFourKilobytesAreMalformedBeforeAnythingElse() {
        #expect(Fixture.error(String(repeating: "a", count: 4097)) == .malformed)
        let padded = Fixture.sign(payload: Fixture.payload(["pad": "\"\(String(repeating: "x", count: 3100))\""]))
        #expect(padded.utf8.count > 4096)
        #expect(Fixture.error(padded) == .malformed)
    }

    @Test func aTokenOfExactlyFourKilobytesIsAccepted() throws {
        // Find a padding claim length that lands exactly on the cap.
        let token = try #require((2900..<3100).lazy.map { n in
            Fixture.sign(payload: Fixture.payload(["pad": "\"\(String(repeating: "x", count: n))\""]))
        }.first { $0.utf8.count == TokenVerifier.maxTokenBytes })
        #expect(Fixture.error(token) == nil)
    }

    // MARK: segments and encoding

    @Test(arguments: [
        "abc", "a.b", "a.b.c.d", "..", "...", ".b.c", "a..c", Self.valid + ".", "." + Self.valid,
        Self.valid + "." + Self.valid.split(separator: ".")[2],
    ])
    func rejectsTheWrongNumberOfSegments(_ token: String) {
        #expect(Fixture.error(token) == .malformed)
    }

    @Test func rejectsTwoSegmentsOfAValidToken() {
        let parts = Self.valid.split(separator: ".")
        #expect(Fixture.error("\(parts[0]).\(parts[1])") == .malformed)
    }

    @Test(arguments: [0, 1, 2])
    func rejectsPaddingInAnySegment(_ segment: Int) {
        var parts = Self.valid.split(separator: ".").map(String.init)
        parts[segment] += "="
        #expect(Fixture.error(parts.joined(separator: ".")) == .malformed)
    }

    @Test(arguments: ["+", "/", "*", " ", "%", "\u{E9}"])
    func rejectsCharactersOutsideBase64URL(_ bad: String) {
        for segment in 0..<3 {
            var parts = Self.valid.split(separator: ".").map(String.init)
            parts[segment].insert(contentsOf: bad, at: parts[segment].index(parts[segment].startIndex, offsetBy: 4))
            #expect(Fixture.error(parts.joined(separator: ".")) == .malformed, "segment \(segment)")
        }
    }

    @Test(arguments: [0, 1, 2])
    func rejectsASegmentOfImpossibleLength(_ segment: Int) {
        // 4n+1 base64 symbols cannot encode whole bytes (the signature's 43 symbols + 2 = 45).
        var parts = Self.valid.split(separator: ".").map(String.init)
        while parts[segment].utf8.count % 4 != 1 { parts[segment] += "A" }
        #expect(Fixture.error(parts.joined(separator: ".")) == .malformed)
    }

    @Test func rejectsSignedSegmentsWithNonZeroTrailingBits() {
        // "AB" decodes to one byte only if its last 4 bits are zero; "AB" has bit pattern 000000 000001.
        let input = Base64.encodeURL(Array(Fixture.header.utf8)) + ".AB"
        let signature = Base64.encodeURL(Crypto.hmacSHA256(key: Fixture.secret, data: Array(input.utf8)))
        #expect(Fixture.error(input + "." + signature) == .malformed)
    }

    // MARK: header

    @Test(arguments: [
        "not json", "[]", #"["HS256"]"#, #""HS256""#, "{}", #"{"typ":"JWT"}"#, #"{"alg":null}"#, #"{"alg":256}"#,
        #"{"alg":["HS256"]}"#, #"{"alg":"HS256","typ":"JWS"}"#, #"{"alg":"HS256","typ":1}"#,
        #"{"alg":"HS256","crit":["exp"]}"#, #"{"alg":"HS256","alg":"HS256"}"#, #"{"alg":"HS256",}"#, "",
    ])
    func rejectsBadHeadersAsMalformed(_ header: String) {
        #expect(Fixture.error(Fixture.sign(header: header)) == .malformed)
    }

    @Test(arguments: ["none", "None", "NONE", "HS512", "HS384", "RS256", "ES256", "PS256", "hs256", "HS256 ", ""])
    func rejectsEveryOtherAlgorithm(_ alg: String) {
        let header = #"{"alg":"\#(alg)","typ":"JWT"}"#
        #expect(Fixture.error(Fixture.sign(header: header)) == .unsupportedAlgorithm)
    }

    @Test func rejectsAlgNoneWithAnEmptySignature() {
        #expect(
            Fixture.error(Fixture.unsigned(header: #"{"alg":"none","typ":"JWT"}"#, signature: ""))
                == .unsupportedAlgorithm)
    }

    @Test func rejectsAlgNoneWithANonEmptySignature() {
        let signature = String(Self.valid.split(separator: ".")[2])
        #expect(
            Fixture.error(Fixture.unsigned(header: #"{"alg":"none"}"#, signature: signature)) == .unsupportedAlgorithm)
        #expect(
            Fixture.error(Fixture.unsigned(header: #"{"alg":"none"}"#, signature: "AAAA")) == .unsupportedAlgorithm)
    }

    // MARK: signature

    @Test func rejectsATokenSignedWithAnotherSecret() {
        #expect(Fixture.error(Fixture.sign(secret: Fixture.otherSecret)) == .badSignature)
    }

    @Test func rejectsAnEmptySignatureUnderHS256() {
        #expect(Fixture.error(Fixture.unsigned(header: Fixture.header, signature: "")) == .badSignature)
    }

    @Test func rejectsATruncatedOrExtendedSignature() {
        let sig = Crypto.hmacSHA256(
            key: Fixture.secret, data: Array(Self.valid.split(separator: ".")[0...1].joined(separator: ".").utf8))
        #expect(
            Fixture.error(Fixture.unsigned(header: Fixture.header, signature: Base64.encodeURL(sig.dropLast())))
                == .badSignature)
        #expect(
            Fixture.error(Fixture.unsigned(header: Fixture.header, signature: Base64.encodeURL(sig + [0])))
                == .badSignature)
    }

    @Test func rejectsEverySingleBitFlipOfTheSignature() {
        let parts = Self.valid.split(separator: ".").map(String.init)
        var signature = Base64.decodeURL(Array(parts[2].utf8))!
        for bit in 0..<(signature.count * 8) {
            signature[bit / 8] ^= 1 << (bit % 8)
            let token = parts[0] + "." + parts[1] + "." + Base64.encodeURL(signature)
            #expect(Fixture.error(token) == .badSignature)
            signature[bit / 8] ^= 1 << (bit % 8)
        }
    }

    @Test func rejectsAPayloadSwappedUnderAnotherSignature() {
        let parts = Self.valid.split(separator: ".").map(String.init)
        let forged = Base64.encodeURL(Array(Fixture.payload(["role": #""facilitator""#]).utf8))
        #expect(Fixture.error(parts[0] + "." + forged + "." + parts[2]) == .badSignature)
    }

    @Test func rejectsAHeaderSwappedUnderAnotherSignature() {
        let parts = Self.valid.split(separator: ".").map(String.init)
        let header = Base64.encodeURL(Array(#"{"alg":"HS256"}"#.utf8))
        #expect(Fixture.error(header + "." + parts[1] + "." + parts[2]) == .badSignature)
    }

    @Test func checksTheSignatureBeforeLookingAtThePayload() {
        // Garbage payloads under a wrong signature are refused for the signature, proving nothing was decoded.
        let garbage = Fixture.unsigned(header: Fixture.header, payload: "not json", signature: "AAAA")
        #expect(Fixture.error(garbage) == .badSignature)
        let truncated = Base64.encodeURL(Array(Fixture.header.utf8)) + ".eyJzdWIi." + "AAAA"
        #expect(Fixture.error(truncated) == .badSignature)
    }

    // MARK: payload

    @Test(arguments: ["not json", "[]", #"["sub"]"#, "1", "null", #""claims""#, "", "{", #"{"sub":"a","sub":"b"}"#])
    func rejectsPayloadsThatAreNotAnObjectAsMalformed(_ payload: String) {
        #expect(Fixture.error(Fixture.sign(payload: payload)) == .malformed)
    }

    @Test func rejectsSignedPayloadsThatAreNotBase64URL() {
        let input = Base64.encodeURL(Array(Fixture.header.utf8)) + ".a+b/"
        let signature = Base64.encodeURL(Crypto.hmacSHA256(key: Fixture.secret, data: Array(input.utf8)))
        #expect(Fixture.error(input + "." + signature) == .malformed)
    }

    @Test func rejectsSignedPayloadsThatAreNotUTF8() {
        let input =
            Base64.encodeURL(Array(Fixture.header.utf8)) + "."
            + Base64.encodeURL([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D])
        let signature = Base64.encodeURL(Crypto.hmacSHA256(key: Fixture.secret, data: Array(input.utf8)))
        #expect(Fixture.error(input + "." + signature) == .malformed)
    }

    // MARK: reasons

    @Test func everyReasonIsShortFixedAndFreeOfTokenContent() {
        let errors: [TokenError] = [
            .missing, .malformed, .badSignature, .unsupportedAlgorithm, .expired, .notYetValid, .wrongRoom,
            .invalidClaims("exp"),
        ]
        let reasons = errors.map(\.reason)
        #expect(Set(reasons).count == errors.count)
        #expect(reasons.allSatisfy { $0.hasPrefix("token") && $0.utf8.count < 40 })
        #expect(TokenError.expired.reason == "token expired")
        #expect(TokenError.invalidClaims("exp").reason == "token claim invalid: exp")
    }

    @Test func refusalsForHostileTokensNeverCarryTheirContent() {
        let secretName = "Confidential Person"
        let tokens = [
            Fixture.sign(payload: Fixture.payload(["name": "\"\(secretName)\"", "role": #""Confidential""#])),
            Fixture.sign(payload: Fixture.payload(["name": "\"\(secretName)\"", "exp": "1"])),
            Fixture.sign(payload: Fixture.payload(["name": "\"\(secretName)\""]), secret: Fixture.otherSecret),
            Fixture.sign(header: #"{"alg":"Confidential"}"#),
        ]
        for token in tokens {
            let error = Fixture.error(token)
            #expect(error != nil)
            #expect(!(error?.reason.contains("Confidential") ?? true))
            #expect(!String(describing: error).contains("Confidential"))
        }
    }
}
