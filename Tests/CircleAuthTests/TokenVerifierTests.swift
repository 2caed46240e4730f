import CircleAuth
import CircleCrypto
import CircleJSON
import CircleRoom
import Testing

@Suite("Token verification: accepted tokens and time")
struct TokenVerifierTests {
    @Test func mintedTokensVerifyToTheSameClaims() throws {
        let token = TokenMinter.mint(Fixture.claims, secret: Fixture.secret)
        #expect(try Fixture.verify(token).get() == Fixture.claims)
    }

    @Test(arguments: Role.allCases)
    func everyRoleRoundTrips(_ role: Role) throws {
        var claims = Fixture.claims
        claims.role = role
        claims.nbf = nil
        claims.iat = nil
        let token = TokenMinter.mint(claims, secret: Fixture.secret)
        #expect(try Fixture.verify(token).get() == claims)
    }

    @Test func mintedTokensHaveTheStandardHeaderAndNoPadding() throws {
        let token = TokenMinter.mint(Fixture.claims, secret: Fixture.secret)
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3)
        #expect(!token.contains("="))
        let header = try JSON.parse(try #require(Base64.decodeURL(Array(parts[0].utf8))))
        #expect(header == ["alg": "HS256", "typ": "JWT"])
        let payload = try JSON.parse(try #require(Base64.decodeURL(Array(parts[1].utf8))))
        #expect(payload["exp"] == 1_700_003_600)
        #expect(payload["name"] == "Ada")
    }

    @Test func mintingEscapesUnicodeAndQuotesInClaims() throws {
        var claims = Fixture.claims
        claims.name = "Zoë \"Z\" 😀"
        claims.sub = "user\\1"
        #expect(try Fixture.verify(TokenMinter.mint(claims, secret: Fixture.secret)).get() == claims)
    }

    @Test func acceptsAHandBuiltTokenWithoutOptionalClaims() throws {
        let claims = try Fixture.verify(Fixture.sign()).get()
        #expect(claims == TokenClaims(sub: "p-1", name: "Ada", room: "r-42", role: .member, exp: 1_700_003_600))
    }

    @Test(arguments: [
        #"{"alg":"HS256"}"#, #"{"typ":"jwt","alg":"HS256"}"#, #"{"alg":"HS256","typ":"Jwt","kid":"k1"}"#,
    ])
    func acceptsHeadersWithoutOrWithAnyCaseOfTyp(_ header: String) {
        #expect(Fixture.error(Fixture.sign(header: header)) == nil)
    }

    @Test func ignoresUnknownClaims() {
        let payload = Fixture.payload(["iss": #""circle""#, "aud": #"["x"]"#, "extra": #"{"a":[1,2]}"#])
        #expect(Fixture.error(Fixture.sign(payload: payload)) == nil)
    }

    // MARK: time

    @Test func expiresAtExactlyExp() {
        let token = Fixture.sign()  // exp 1_700_003_600
        #expect(Fixture.error(token, now: 1_700_003_599) == nil)
        #expect(Fixture.error(token, now: 1_700_003_600) == .expired)
        #expect(Fixture.error(token, now: 1_800_000_000) == .expired)
    }

    @Test func becomesValidAtExactlyNbf() {
        let token = Fixture.sign(payload: Fixture.payload(["nbf": "1700000100"]))
        #expect(Fixture.error(token, now: 1_700_000_099) == .notYetValid)
        #expect(Fixture.error(token, now: 1_700_000_100) == nil)
    }

    @Test func leewayExtendsBothEnds() {
        let verifier = TokenVerifier(secret: Fixture.secret, leeway: 30)
        let token = Fixture.sign(payload: Fixture.payload(["nbf": "1700000100"]))
        #expect((try? verifier.verify(token, room: Fixture.room, now: 1_700_000_070).get()) != nil)
        #expect(verifier.verify(token, room: Fixture.room, now: 1_700_000_069) == .failure(.notYetValid))
        #expect((try? verifier.verify(token, room: Fixture.room, now: 1_700_003_629).get()) != nil)
        #expect(verifier.verify(token, room: Fixture.room, now: 1_700_003_630) == .failure(.expired))
    }

    @Test func extremeClocksAndLeewayDoNotOverflow() {
        let verifier = TokenVerifier(secret: Fixture.secret, leeway: .max)
        let token = Fixture.sign(payload: Fixture.payload(["nbf": "1700000100"]))
        #expect(verifier.verify(token, room: Fixture.room, now: .min) == .failure(.notYetValid))
        #expect((try? verifier.verify(token, room: Fixture.room, now: .max).get()) != nil)
        #expect(Fixture.error(token, now: .max) == .expired)
        #expect(Fixture.error(token, now: .min) == .notYetValid)
    }

    @Test func fractionalNumericDatesAreRoundedDown() throws {
        let payload = Fixture.payload(["exp": "1700003600.9", "nbf": "1699999999.5", "iat": "1.6999e9"])
        let claims = try Fixture.verify(Fixture.sign(payload: payload)).get()
        #expect(claims.exp == 1_700_003_600)
        #expect(claims.nbf == 1_699_999_999)
        #expect(claims.iat == 1_699_900_000)
        #expect(Fixture.error(Fixture.sign(payload: payload), now: 1_700_003_600) == .expired)
    }

    // MARK: room

    @Test func rejectsATokenForAnotherRoom() {
        #expect(Fixture.error(Fixture.sign(), room: "r-43") == .wrongRoom)
        #expect(Fixture.error(Fixture.sign(), room: "R-42") == .wrongRoom)
        #expect(Fixture.error(Fixture.sign(), room: "") == .wrongRoom)
    }

    @Test func comparesRoomsByteForByteNotByCanonicalEquivalence() {
        let composed = "caf\u{E9}", decomposed = "cafe\u{301}"
        let token = Fixture.sign(payload: Fixture.payload(["room": "\"\(composed)\""]))
        #expect(Fixture.error(token, room: composed) == nil)
        #expect(Fixture.error(token, room: decomposed) == .wrongRoom)
    }
}
