import CircleAuth
import CircleJSON
import CircleTestSupport
import Foundation
import Testing

/// Interoperability with PyJWT, the reference most issuers use: tokens minted by PyJWT must verify here, and tokens
/// minted here must verify in PyJWT. Runs `python3` as a subprocess; fails (not skips) when PyJWT is missing.
@Suite("PyJWT interoperability")
struct PyJWTInteropTests {
    private static let secretHex = Fixture.secret.map { String(format: "%02x", $0) }.joined()

    /// PyJWT mints a token from JSON claims (argv[1]) and a hex secret (argv[2]).
    private static let mintScript = """
        import json, sys, jwt
        print(jwt.encode(json.loads(sys.argv[1]), bytes.fromhex(sys.argv[2]), algorithm=sys.argv[3]))
        """

    /// PyJWT verifies a token (argv[1]) with a hex secret (argv[2]) and prints its claims as JSON.
    private static let decodeScript = """
        import json, sys, jwt
        claims = jwt.decode(sys.argv[1], bytes.fromhex(sys.argv[2]), algorithms=["HS256"],
                            options={"require": ["exp", "sub"]})
        print(json.dumps(claims, separators=(",", ":")))
        """

    private func pyMint(_ claims: String, algorithm: String = "HS256") throws -> String {
        try PyJWT.require()
        return try python(Self.mintScript, [claims, Self.secretHex, algorithm])
    }

    @Test func verifiesAPyJWTTokenWithAllClaims() throws {
        let token = try pyMint(#"{"sub":"p-7","name":"Zoë","room":"r-42","role":"facilitator","exp":1700003600,"#
                               + #""nbf":1699999000,"iat":1699999000}"#)
        let claims = try Fixture.verify(token).get()
        #expect(claims == TokenClaims(sub: "p-7", name: "Zoë", room: "r-42", role: .facilitator, exp: 1_700_003_600,
                                      nbf: 1_699_999_000, iat: 1_699_999_000))
    }

    @Test func verifiesAPyJWTTokenWithOnlyRequiredClaimsAndExtras() throws {
        let token = try pyMint(#"{"iss":"clinic","sub":"p-8","name":"B","room":"r-42","role":"observer","#
                               + #""exp":1700003600,"aud":["circle"]}"#)
        #expect(try Fixture.verify(token).get().role == .observer)
    }

    @Test func floorsAFractionalExpFromPyJWT() throws {
        let token = try pyMint(#"{"sub":"p-1","name":"A","room":"r-42","role":"member","exp":1700003600.75}"#)
        #expect(try Fixture.verify(token).get().exp == 1_700_003_600)
    }

    @Test func refusesExpiredAndFuturePyJWTTokens() throws {
        let expired = try pyMint(#"{"sub":"p-1","name":"A","room":"r-42","role":"member","exp":1699999999}"#)
        #expect(Fixture.error(expired) == .expired)
        let early = try pyMint(
            #"{"sub":"p-1","name":"A","room":"r-42","role":"member","exp":1700003600,"nbf":1700000500}"#)
        #expect(Fixture.error(early) == .notYetValid)
    }

    @Test func refusesPyJWTTokensForAnotherRoomOrSignedWithHS512() throws {
        let claims = #"{"sub":"p-1","name":"A","room":"r-42","role":"member","exp":1700003600}"#
        #expect(Fixture.error(try pyMint(claims), room: "r-1") == .wrongRoom)
        #expect(Fixture.error(try pyMint(claims, algorithm: "HS512")) == .unsupportedAlgorithm)
    }

    @Test func refusesAPyJWTTokenWhosePayloadWasSwapped() throws {
        let member = try pyMint(#"{"sub":"p-1","name":"A","room":"r-42","role":"member","exp":1700003600}"#)
        let boss = try pyMint(#"{"sub":"p-1","name":"A","room":"r-42","role":"facilitator","exp":1700003600}"#)
        let m = member.split(separator: "."), b = boss.split(separator: ".")
        #expect(Fixture.error("\(m[0]).\(b[1]).\(m[2])") == .badSignature)
    }

    @Test func pyJWTVerifiesOurTokens() throws {
        try PyJWT.require()
        // PyJWT checks exp/nbf/iat against the real clock, so use dates safely around it.
        let claims = TokenClaims(sub: "p-9", name: "Zoë \"Z\" 😀", room: "r-42", role: .cofacilitator,
                                 exp: 4_102_444_800, nbf: 1_600_000_000, iat: 1_600_000_000)
        let output = try python(Self.decodeScript, [TokenMinter.mint(claims, secret: Fixture.secret), Self.secretHex])
        let decoded = try JSON.parse(output)
        #expect(decoded == ["sub": "p-9", "name": "Zoë \"Z\" 😀", "room": "r-42", "role": "cofacilitator",
                            "exp": 4_102_444_800, "nbf": 1_600_000_000, "iat": 1_600_000_000])
    }

    @Test func pyJWTRejectsOurTokensUnderAnotherSecret() throws {
        try PyJWT.require()
        let token = TokenMinter.mint(Fixture.claims, secret: Fixture.otherSecret)
        #expect(throws: PythonError.self) { try python(Self.decodeScript, [token, Self.secretHex]) }
    }
}

/// Why `python3` cannot import `jwt`, or nil when it can. Scripts/test installs PyJWT; no test installs packages.
/// Checked once, lazily and thread-safely, as a global `let`.
private enum PyJWT {
    static let missing: String? = {
        do { try python("import jwt", []); return nil } catch { return "\(error)" }
    }()

    /// Fails the test, with the reason, when PyJWT is missing.
    static func require(sourceLocation: SourceLocation = #_sourceLocation) throws {
        try #require(missing == nil, "python3 with PyJWT is required (Scripts/test installs it): \(missing ?? "")",
                     sourceLocation: sourceLocation)
    }
}

struct PythonError: Error, CustomStringConvertible {
    var status: Int32
    var stderr: String
    var description: String { "exit \(status): \(stderr)" }
}

/// Runs a Python script with arguments; returns its stdout, trimmed. Throws on a non-zero exit.
@discardableResult
private func python(_ script: String, _ arguments: [String]) throws -> String {
    try run(["python3", "-c", script] + arguments)
}

private func run(_ command: [String]) throws -> String {
    let result = try runProcess(command)
    guard result.status == 0 else { throw PythonError(status: result.status, stderr: result.stderr) }
    return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}
