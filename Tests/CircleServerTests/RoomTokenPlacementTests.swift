import CircleAuth
import CircleHTTP
import CircleJSON
import CircleServer
import Glibc
import Testing

/// Where a token may travel, and how long an ended session refuses the tokens issued before its end.
@Suite struct RoomTokenPlacementTests {
    @Test func aTokenOfferedAsASubprotocolJoinsAndIsNeverEchoed() throws {
        let env = try roomServer()
        let jwt = token(room: "r", sub: "m", name: "M", role: .member)
        let client = TestClient.webSocket(env, path: "/rooms/r", headers: [
            HTTPHeader(name: "Sec-WebSocket-Protocol", value: "circle, bearer.\(jwt)"),
        ])
        #expect(client.upgraded)
        #expect(client.rawResponseText.lowercased().contains("sec-websocket-protocol: circle\r\n"))
        #expect(!client.rawResponseText.contains(jwt))
        #expect(env.run { client.texts.contains { $0.contains(#""type":"welcome""#) } })
        env.shutDown()
    }

    @Test func aSubprotocolTokenThatFailsIs401AndOtherPlacesWinInOrder() throws {
        let env = try roomServer()
        let bad = TestClient.webSocket(env, path: "/rooms/r", headers: [
            HTTPHeader(name: "Sec-WebSocket-Protocol", value: "circle, bearer.x.y.z"),
        ])
        #expect(bad.status == 401)
        // The query wins over the subprotocol.
        let good = token(room: "r", sub: "m", name: "M", role: .member)
        let both = TestClient.webSocket(env, path: "/rooms/r?access_token=\(good)", headers: [
            HTTPHeader(name: "Sec-WebSocket-Protocol", value: "circle, bearer.x.y.z"),
        ])
        #expect(both.upgraded)
        env.shutDown()
    }

    private func end(_ env: TestServer, room: String, ttl: Int64 = 600) {
        let jwt = token(room: room, sub: "f", name: "F", role: .facilitator, ttl: ttl)
        let f = TestClient.webSocket(env, path: "/rooms/\(room)?access_token=\(jwt)")
        #expect(env.run { f.texts.contains { $0.contains("welcome") } })
        f.sendText(#"{"type":"end_session"}"#)
        #expect(env.run { f.tcpClosed })
    }

    /// The close code a member's join with a token issued at `issuedAt` gets (nil: it was welcomed).
    private func rejoinCode(_ env: TestServer, room: String, issuedAt: Int64, ttl: Int64 = 60) -> UInt16? {
        let now = Int64(time(nil))
        let jwt = TokenMinter.mint(TokenClaims(sub: "m", name: "M", room: room, role: .member, exp: now + ttl,
                                               iat: issuedAt), secret: testSecret)
        let client = TestClient.webSocket(env, path: "/rooms/\(room)?access_token=\(jwt)")
        env.run { client.serverClose != nil || client.texts.contains { $0.contains("welcome") } }
        return client.serverClose?.code
    }

    @Test func pastTheCapTheOldestEndedSessionIsForgotten() throws {
        let env = try roomServer { $0.maxEndedRooms = 1 }
        let before = Int64(time(nil)) - 5
        end(env, room: "a")
        #expect(rejoinCode(env, room: "a", issuedAt: before) == 4004)
        end(env, room: "b")
        #expect(rejoinCode(env, room: "b", issuedAt: before) == 4004)
        #expect(rejoinCode(env, room: "a", issuedAt: before) == nil, "a was forgotten to make room for b")
        env.shutDown()
    }

    @Test func anEndedSessionIsRememberedForTheTokenLifetimeOnly() throws {
        let env = try roomServer { $0.maxTokenLifetimeSeconds = 1 }
        let before = Int64(time(nil)) - 5
        end(env, room: "a", ttl: 1)
        #expect(rejoinCode(env, room: "a", issuedAt: before, ttl: 1) == 4004)
        env.run(milliseconds: 2100)  // no token issued before the end can still be valid now
        #expect(rejoinCode(env, room: "a", issuedAt: before, ttl: 1) == nil)
        env.shutDown()
    }
}
