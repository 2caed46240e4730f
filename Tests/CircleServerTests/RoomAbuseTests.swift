import CircleJSON
import CircleServer
import Testing

/// Bad input gets its documented answer, and the server and the room go on.
@Suite struct RoomAbuseTests {
    private func type(_ m: JSON?) -> String { m?["type"]?.stringValue ?? "" }
    private func code(_ m: JSON?) -> String { m?["code"]?.stringValue ?? "" }

    @Test func memberSendingFacilitatorCommandsIsForbiddenAndNothingChanges() throws {
        let env = try roomServer()
        let f = Participant(env, room: "r", sub: "f", name: "F", role: .facilitator)
        let m = Participant(env, room: "r", sub: "m", name: "M", role: .member)
        let o = Participant(env, room: "r", sub: "o", name: "O", role: .observer)
        _ = m.waitFor(type: "welcome")
        _ = o.waitFor(type: "welcome")
        env.run(milliseconds: 50)
        let before = f.events.count
        for (cmd, fields) in [("set_phase", [("phase", JSON.string("sharing"))]), ("mute", [("participant", "f")]),
                              ("lock", []), ("remove", [("participant", "f")]), ("end_session", []),
                              ("start_silence", [("silence_ms", 5000)])] as [(String, [(String, JSON)])] {
            #expect(code(m.request(cmd, fields)) == "forbidden", "\(cmd) by a member")
            #expect(code(o.request(cmd, fields)) == "forbidden", "\(cmd) by an observer")
        }
        #expect(code(o.request("raise_hand")) == "forbidden")
        env.run(milliseconds: 50)
        #expect(f.events.count == before, "no event may follow a forbidden command")
        // The room goes on.
        #expect(type(f.request("lock")) == "ack")
        env.shutDown()
    }

    @Test func malformedAndUnknownMessagesGetAnErrorAndTheConnectionStays() throws {
        let env = try roomServer { $0.sessionOpeners = .anyone }  // members only: peer-led
        let m = Participant(env, room: "r", sub: "m", name: "M", role: .member)
        _ = m.waitFor(type: "welcome")
        m.client.sendText("{not json")
        #expect(code(m.waitFor(type: "error")) == "invalid")
        m.client.sendText(#"{"type":"fly_away","id":"x1"}"#)
        let unknown = m.waitFor(type: "error")
        #expect(code(unknown) == "invalid")
        #expect(unknown?["id"]?.stringValue == "x1")
        m.client.sendText(#"{"type":"media","mic":"yes","id":"x2"}"#)
        #expect(m.waitFor(type: "error")?["id"]?.stringValue == "x2")
        #expect(type(m.request("raise_hand")) == "ack")
        #expect(!m.client.tcpClosed)
        // The protocol is text: a binary message ends the connection with 1003.
        m.client.send(.binary, [1, 2, 3])
        #expect(env.run { m.client.serverClose != nil })
        #expect(m.client.serverClose?.code == 1003)
        env.shutDown()
    }

    @Test func signalToSomeoneInAnotherRoomIsNotFound() throws {
        let env = try roomServer { $0.sessionOpeners = .anyone }  // members only: peer-led
        let a = Participant(env, room: "a", sub: "x", name: "X", role: .member)
        let b = Participant(env, room: "b", sub: "y", name: "Y", role: .member)
        _ = a.waitFor(type: "welcome")
        _ = b.waitFor(type: "welcome")
        #expect(code(a.request("signal", [("to", "y"), ("payload", ["sdp": "v=0"])])) == "not_found")
        env.run(milliseconds: 50)
        #expect(!b.messages.contains { type($0) == "signal" })
        env.shutDown()
    }

    @Test func oversizedMessages() throws {
        let env = try roomServer { $0.sessionOpeners = .anyone }  // members only: peer-led
        let m = Participant(env, room: "r", sub: "m", name: "M", role: .member)
        let n = Participant(env, room: "r", sub: "n", name: "N", role: .member)
        _ = n.waitFor(type: "welcome")
        // A signal payload over its 64 KiB cap: an error, the connection stays.
        let big = JSON.array(Array(repeating: .string(String(repeating: "a", count: 4000)), count: 20))
        #expect(code(m.request("signal", [("to", "n"), ("payload", big)])) == "too_large")
        #expect(!m.client.tcpClosed)
        // A WebSocket message over the 128 KiB limit: protocol abuse, close 1009.
        m.client.sendText(String(repeating: "b", count: 200_000))
        #expect(env.run { m.client.tcpClosed })
        #expect(m.client.serverClose?.code == 1009)
        // The room goes on: m is reconnecting, n is fine.
        #expect(
            n.waitFor { $0["type"]?.stringValue == "connection_changed" && $0["participant"]?.stringValue == "m" }
                != nil)
        #expect(type(n.request("raise_hand")) == "ack")
        env.shutDown()
    }

    @Test func floodBeyondTheRateLimit() throws {
        let env = try roomServer {
            $0.sessionOpeners = .anyone  // members only: peer-led
            $0.messagesPerSecond = 5  // bursts of 10
            $0.floodCloseAfter = 30
        }
        let m = Participant(env, room: "r", sub: "m", name: "M", role: .member)
        let n = Participant(env, room: "r", sub: "n", name: "N", role: .member)
        _ = m.waitFor(type: "welcome")
        _ = n.waitFor(type: "welcome")
        for _ in 0..<20 { m.client.sendText(#"{"type":"media","mic":true}"#) }
        #expect(m.waitFor { $0["code"]?.stringValue == "rate_limited" } != nil)
        #expect(!m.client.tcpClosed)
        // Keeping it up is abuse: closed with 1008.
        for _ in 0..<100 { m.client.sendText(#"{"type":"media","mic":true}"#) }
        #expect(env.run { m.client.tcpClosed })
        #expect(m.client.serverClose?.code == 1008)
        #expect(type(n.request("raise_hand")) == "ack")
        env.shutDown()
    }

    @Test func sameSubTakesOverTheSeat() throws {
        let env = try roomServer { $0.sessionOpeners = .anyone }  // members only: peer-led
        let first = Participant(env, room: "r", sub: "m", name: "M", role: .member)
        _ = first.waitFor(type: "welcome")
        let second = Participant(env, room: "r", sub: "m", name: "M", role: .member)
        #expect(second.waitFor(type: "welcome")?["resumed"] == true)
        #expect(env.run { first.client.tcpClosed })
        #expect(first.client.serverClose?.code == 4000)
        env.shutDown()
    }

    @Test func lockedRoomRefusesNewJoinsButNotReconnects() throws {
        let env = try roomServer()
        let f = Participant(env, room: "r", sub: "f", name: "F", role: .facilitator)
        let m = Participant(env, room: "r", sub: "m", name: "M", role: .member)
        _ = m.waitFor(type: "welcome")
        #expect(type(f.request("lock")) == "ack")
        let late = Participant(env, room: "r", sub: "late", name: "L", role: .member)
        #expect(code(late.waitFor(type: "error")) == "room_locked")
        #expect(env.run { late.client.tcpClosed })
        #expect(late.client.serverClose?.code == 4002)
        m.client.tcp?.close()
        _ = f.waitFor {
            $0["type"]?.stringValue == "connection_changed" && $0["connection"]?.stringValue == "reconnecting"
        }
        let back = Participant(env, room: "r", sub: "m", name: "M", role: .member)
        #expect(back.waitFor(type: "welcome")?["resumed"] == true)
        env.shutDown()
    }

    @Test func removedMemberIsToldSoThenClosedAndCannotRejoin() throws {
        let env = try roomServer()
        let f = Participant(env, room: "r", sub: "f", name: "F", role: .facilitator)
        let m = Participant(env, room: "r", sub: "m", name: "M", role: .member)
        _ = m.waitFor(type: "welcome")
        #expect(type(f.request("remove", [("participant", "m")])) == "ack")
        #expect(env.run { m.client.tcpClosed })
        #expect(m.client.serverClose?.code == 4001)
        // Before the close, in words: the last message on the socket is an `error` `removed` with no request id.
        let last = m.messages.last
        #expect(last?["type"] == "error")
        #expect(code(last) == "removed")
        #expect(last?["id"] == nil)
        #expect(last?["message"]?.stringValue?.isEmpty == false)
        let again = Participant(env, room: "r", sub: "m", name: "M", role: .member)
        #expect(code(again.waitFor(type: "error")) == "removed")
        #expect(env.run { again.client.tcpClosed })
        #expect(again.client.serverClose?.code == 4001)
        env.shutDown()
    }

    @Test func keepaliveFindsADeadConnectionAndTheGraceStarts() throws {
        let env = try roomServer(server: {
            $0.pingIntervalMilliseconds = 60
            $0.pongTimeoutMilliseconds = 60
        })
        let f = Participant(env, room: "r", sub: "f", name: "F", role: .facilitator)
        let m = Participant(env, room: "r", sub: "m", name: "M", role: .member)
        _ = m.waitFor(type: "welcome")
        m.client.answers = false  // a half-open connection: nothing comes back
        let changed = f.waitFor(timeoutMilliseconds: 3000) {
            $0["type"]?.stringValue == "connection_changed" && $0["participant"]?.stringValue == "m"
        }
        #expect(changed?["connection"]?.stringValue == "reconnecting")
        #expect(!f.client.tcpClosed)
        env.shutDown()
    }

    @Test func lastFacilitatorDroppingLeavesTheRoomInItsPhase() throws {
        let env = try roomServer { $0.room.grace = .milliseconds(200) }
        let f = Participant(env, room: "r", sub: "f", name: "F", role: .facilitator)
        let m = Participant(env, room: "r", sub: "m", name: "M", role: .member)
        _ = m.waitFor(type: "welcome")
        #expect(type(f.request("set_phase", [("phase", "sharing")])) == "ack")
        f.client.tcp?.close()
        #expect(
            m.waitFor { $0["type"]?.stringValue == "participant_left" && $0["participant"]?.stringValue == "f" } != nil
        )
        #expect(type(m.request("raise_hand")) == "ack")
        #expect(m.waitFor { $0["type"]?.stringValue == "queue_changed" } != nil)
        env.shutDown()
    }
}
