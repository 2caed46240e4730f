import CircleAuth
import Testing

@Suite("Token claims validation")
struct TokenClaimsTests {
    private func error(_ overrides: [String: String?]) -> TokenError? {
        Fixture.error(Fixture.sign(payload: Fixture.payload(overrides)))
    }

    @Test(arguments: [
        nil, #""""#, "1", "null", "true", #"["p-1"]"#, #"{"id":"p-1"}"#, "\"\(String(repeating: "s", count: 129))\"",
    ])
    func rejectsAMissingEmptyOversizeOrNonStringSub(_ sub: String?) {
        #expect(error(["sub": sub]) == .invalidClaims("sub"))
    }

    @Test(arguments: [nil, #""""#, "1", "null", "false", #"["Ada"]"#, "\"\(String(repeating: "é", count: 65))\""])
    func rejectsAMissingEmptyOversizeOrNonStringName(_ name: String?) {
        #expect(error(["name": name]) == .invalidClaims("name"))
    }

    @Test func acceptsSubAndNameOfExactly128Bytes() throws {
        let sub = String(repeating: "s", count: 128)
        let name = String(repeating: "é", count: 64)
        let claims = try Fixture.verify(
            Fixture.sign(payload: Fixture.payload(["sub": "\"\(sub)\"", "name": "\"\(name)\""]))
        ).get()
        #expect(claims.sub == sub && claims.name == name)
    }

    @Test(arguments: [nil, #""""#, "42", "null", #"["r-42"]"#])
    func rejectsAMissingEmptyOrNonStringRoom(_ room: String?) {
        #expect(error(["room": room]) == .invalidClaims("room"))
    }

    @Test(arguments: [nil, #""admin""#, #""Member""#, #""facilitator ""#, #""""#, "1", "null", #"["member"]"#])
    func rejectsAMissingOrUnknownRole(_ role: String?) {
        #expect(error(["role": role]) == .invalidClaims("role"))
    }

    @Test(arguments: [nil, #""1700003600""#, "null", "true", "[1700003600]", "1e19", "-1e19", "1e300"])
    func rejectsAMissingNonNumericOrOutOfRangeExp(_ exp: String?) {
        #expect(error(["exp": exp]) == .invalidClaims("exp"))
    }

    @Test(arguments: [#""1700000000""#, "null", "false", "{}", "1e20"])
    func rejectsANonNumericNbf(_ nbf: String) {
        #expect(error(["nbf": nbf]) == .invalidClaims("nbf"))
    }

    @Test(arguments: [#""1700000000""#, "null", "false", "[]", "-1e20"])
    func rejectsANonNumericIat(_ iat: String) {
        #expect(error(["iat": iat]) == .invalidClaims("iat"))
    }

    @Test func reportsInvalidClaimsBeforeRoomAndTime() {
        let token = Fixture.sign(payload: Fixture.payload(["role": #""admin""#, "exp": "1"]))
        #expect(Fixture.error(token, room: "elsewhere") == .invalidClaims("role"))
    }

    @Test func reportsTheWrongRoomBeforeExpiry() {
        let token = Fixture.sign(payload: Fixture.payload(["exp": "1"]))
        #expect(Fixture.error(token, room: "elsewhere") == .wrongRoom)
    }
}
