import CircleAuth
import Testing

/// The written limits on claims: no control characters in `sub` or `name`, and no token living past the lifetime.
@Suite struct TokenLimitTests {
    private func error(_ overrides: [String: String?], verifier: TokenVerifier = Fixture.verifier) -> TokenError? {
        if case .failure(let e) = verifier.verify(
            Fixture.sign(payload: Fixture.payload(overrides)), room: Fixture.room,
            now: Fixture.now)
        {
            return e
        }
        return nil
    }

    @Test(arguments: [#"a\nb"#, #"a\r\nlevel=critical"#, #"\u001b[2J"#, #"\u0000"#, #"a\u007f"#, #"\u0085"#,
                      #"a\u2028b"#, #"\u2029"#])
    func controlCharactersAreRefusedInSubAndName(_ escaped: String) {
        #expect(error(["sub": "\"\(escaped)\""]) == .invalidClaims("sub"))
        #expect(error(["name": "\"\(escaped)\""]) == .invalidClaims("name"))
    }

    @Test func quotesSpacesAndNonLatinTextAreAccepted() {
        #expect(error(["sub": #""a \"b\" = c""#, "name": #""Zoë 李 🙂""#]) == nil)
    }

    @Test func expiryFurtherAheadThanTheLifetimeIsRefused() {
        let verifier = TokenVerifier(secret: Fixture.secret, leeway: 30, maxLifetime: 3600)
        #expect(error(["exp": "\(Fixture.now + 3630)"], verifier: verifier) == nil)
        #expect(error(["exp": "\(Fixture.now + 3631)"], verifier: verifier) == .invalidClaims("exp"))
        #expect(error(["exp": "\(Fixture.now + 86_400)"]) == nil)  // the default lifetime is a day
        #expect(error(["exp": "\(Fixture.now + 86_401)"]) == .invalidClaims("exp"))
    }
}
