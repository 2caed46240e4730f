import CircleAuth
import CircleCrypto
import CircleHTTP
import CircleJSON
import CircleServer
import Foundation
import Testing

/// Authentication happens before the upgrade: every bad token gets HTTP 401 with a short reason.
@Suite struct RoomAuthTests {
    private func status(_ env: TestServer, path: String, headers: [HTTPHeader] = []) -> (Int?, String) {
        let c = TestClient.webSocket(env, path: path, headers: headers)
        env.run { c.status != nil && (c.status == 101 || c.tcpClosed) }
        return (c.status, c.rawResponseText)
    }

    private func forge(header: String, payload: String, signature: String = "") -> String {
        Base64.encodeURL(Array(header.utf8)) + "." + Base64.encodeURL(Array(payload.utf8)) + "." + signature
    }

    @Test func validTokenInQueryOrBearerHeaderUpgrades() throws {
        let env = try roomServer()
        let t = token(room: "r1", sub: "m1", name: "Ann", role: .member)
        #expect(status(env, path: "/rooms/r1?access_token=\(t)").0 == 101)
        let t2 = token(room: "r1", sub: "m2", name: "Bob", role: .member)
        #expect(
            status(env, path: "/rooms/r1", headers: [HTTPHeader(name: "Authorization", value: "Bearer \(t2)")]).0
                == 101)
        env.shutDown()
    }

    @Test func badTokensAre401WithAReason() throws {
        let env = try roomServer()
        let now = Int(Date().timeIntervalSince1970)
        let good = token(room: "r1", sub: "m1", name: "Ann", role: .member)
        let parts = good.split(separator: ".")
        let cases: [(String, String)] = [
            ("", "missing"),
            ("not-a-token", "malformed"),
            (parts[0] + "." + parts[1] + "." + Base64.encodeURL(Crypto.randomBytes(32)), "signature"),
            (
                token(
                    room: "r1", sub: "m1", name: "Ann", role: .member,
                    secret: Array("another secret entirely, 32 bytes".utf8)), "signature"
            ),
            (token(room: "r1", sub: "m1", name: "Ann", role: .member, ttl: -10), "expired"),
            (token(room: "r2", sub: "m1", name: "Ann", role: .member), "room"),
            (
                forge(
                    header: #"{"alg":"none","typ":"JWT"}"#,
                    payload: #"{"sub":"m1","name":"Ann","room":"r1","role":"facilitator","exp":\#(now + 600)}"#),
                "algorithm"
            ),
            (
                forge(
                    header: #"{"alg":"HS512","typ":"JWT"}"#,
                    payload: #"{"sub":"m1","name":"Ann","room":"r1","role":"facilitator","exp":\#(now + 600)}"#,
                    signature: "abc"), "algorithm"
            ),
        ]
        for (t, reason) in cases {
            let (code, text) = status(env, path: "/rooms/r1?access_token=\(t)")
            #expect(code == 401, "token for \(reason)")
            #expect(text.lowercased().contains(reason), "401 body should say \(reason): \(text)")
            #expect(!t.isEmpty ? !text.contains(t) : true, "the token must not be echoed")
        }
        // Not yet valid.
        let nbf = TokenMinter.mint(
            TokenClaims(
                sub: "m1", name: "Ann", room: "r1", role: .member,
                exp: Int64(now + 600), nbf: Int64(now + 300), iat: nil), secret: testSecret)
        #expect(status(env, path: "/rooms/r1?access_token=\(nbf)").0 == 401)
        env.shutDown()
    }

    @Test func pyJWTMintedTokensAreAccepted() throws {
        let env = try roomServer()
        let exp = Int(Date().timeIntervalSince1970) + 600
        let script = """
        import jwt, sys
        print(jwt.encode({"sub": "py1", "name": "Py", "room": "r1", "role": "member", "exp": \(exp)},
                         sys.argv[1], algorithm="HS256"))
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, String(decoding: testSecret, as: UTF8.self)]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        let t = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(p.terminationStatus == 0, "PyJWT is needed (Scripts/test installs it)")
        #expect(status(env, path: "/rooms/r1?access_token=\(t)").0 == 101)
        env.shutDown()
    }

    @Test func roomPathsAreChecked() throws {
        let env = try roomServer()
        let t = token(room: "r1", sub: "m1", name: "Ann", role: .member)
        #expect(status(env, path: "/rooms/?access_token=\(t)").0 == 404)
        #expect(status(env, path: "/rooms/a%2Fb?access_token=\(t)").0 == 404)
        #expect(status(env, path: "/rooms/r1?access_token=\(t)&since=abc").0 == 400)
        env.shutDown()
    }

    @Test func roomLimitIs503BeforeTheUpgrade() throws {
        let env = try roomServer { $0.maxRooms = 1 }
        let a = Participant(env, room: "r1", sub: "f1", name: "F", role: .facilitator)
        #expect(a.client.upgraded)
        #expect(
            status(env, path: "/rooms/r2?access_token=\(token(room: "r2", sub: "f2", name: "G", role: .facilitator))")
                .0 == 503)
        env.shutDown()
    }
}
