import CircleJSON
import CircleProtocol
import CircleRoom
import Testing

/// A real room driven through a whole session by decoded client text; everything it emits is encoded and must match
/// the schemas. Proves the schemas describe what the engine really sends, not what we think it sends.
final class SessionDriver {
    let room: Room
    var now = Instant.seconds(1000)
    private var nextConnection: UInt64 = 1
    private(set) var connections: [String: ConnectionID] = [:]
    /// Every message the room sent, encoded once, in order.
    private(set) var sent: [Outbound] = []
    private(set) var sentText: [String] = []
    /// Every client message the session used.
    private(set) var clientText: [String] = []
    private(set) var closes: [(ConnectionID, UInt16)] = []

    init(config: RoomConfig) {
        room = Room(id: "room-1", config: config, now: now)
    }

    @discardableResult
    func join(_ sub: String, _ role: Role, since: UInt64? = nil) -> JoinOutcome {
        let connection = ConnectionID(nextConnection)
        nextConnection += 1
        let outcome = room.join(connection: connection, identity: Identity(sub: sub, name: "Name \(sub) ✨", role: role),
                                resumeFrom: since, now: now)
        if outcome.isAccepted { connections[sub] = connection }
        drain()
        return outcome
    }

    func send(_ sub: String, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        clientText.append(text)
        guard let request = Wire.request(text, sourceLocation: sourceLocation) else { return }
        room.handle(connection: connections[sub]!, requestID: request.id, command: request.command, now: now)
        drain()
    }

    func drop(_ sub: String) {
        room.disconnected(connection: connections[sub]!, now: now)
        drain()
    }

    /// Moves the clock, ticking at every deadline on the way, the way the service's timer does.
    func advance(_ duration: Duration) {
        let target = now + duration
        while let deadline = room.nextDeadline, deadline <= target {
            now = max(now, deadline)
            room.tick(now: now)
            drain()
        }
        now = target
    }

    private func drain() {
        for effect in room.effects {
            switch effect {
            case .deliver(let message, _):
                sent.append(message)
                sentText.append(String(decoding: WireProtocol.encode(message), as: UTF8.self))
            case .close(let connection, let code, _):
                closes.append((connection, code))
            case .ended:
                break
            }
        }
        room.effects.removeAll(keepingCapacity: true)
    }
}

@Suite struct RoomSessionTests {
    @Test func aWholeSessionMatchesTheSchemas() throws {
        let s = SessionDriver(config: RoomConfig(maxParticipants: 8, logCapacity: 12))
        s.join("f", .facilitator)
        for member in ["m1", "m2", "m3"] { s.join(member, .member) }
        s.join("o", .observer)

        // Intro: a paced round with a pass, a nudge and a turn that runs out.
        s.send("m1", #"{"type":"media","id":"a1","mic":true,"camera":true}"#)
        s.send("f", #"{"type":"set_pacing","id":"a2","turn_length_ms":60000,"nudge_before_ms":10000,"auto_advance":true}"#)
        s.send("f", #"{"type":"advance_round","id":"a3"}"#)
        s.send("m2", #"{"type":"pass","id":"a4"}"#)
        s.advance(.seconds(61))
        s.send("m3", #"{"type":"end_turn","id":"a5"}"#)

        // Sharing: the queue, mutes, relay, reactions, a private word, refusals.
        s.send("f", #"{"type":"set_phase","id":"b1","phase":"sharing"}"#)
        for member in ["m2", "m3", "m1"] { s.send(member, #"{"type":"raise_hand"}"#) }
        s.send("f", #"{"type":"set_queue_policy","id":"b2","queue_policy":"least_spoken"}"#)
        s.send("f", #"{"type":"move_in_queue","id":"b3","participant":"m1","position":0}"#)
        s.send("f", #"{"type":"remove_from_queue","id":"b4","participant":"m3"}"#)
        s.send("f", #"{"type":"give_floor","id":"b5"}"#)
        s.send("f", #"{"type":"mute","id":"b6","participant":"m3"}"#)
        s.send("m3", #"{"type":"media","id":"b7","mic":true}"#)
        s.send("f", #"{"type":"unmute","id":"b8","participant":"m3"}"#)
        s.send("f", #"{"type":"mute_all_but_speaker","id":"b9"}"#)
        s.send("m2", #"{"type":"reaction","id":"c1","kind":"heart"}"#)
        s.send("m2", #"{"type":"private_word","id":"c2","text":"I need a moment"}"#)
        s.send("f", #"{"type":"private_word_seen","id":"c8","participant":"m2"}"#)
        s.send("m1", #"{"type":"signal","id":"c3","to":"m2","payload":{"type":"offer","sdp":"v=0\r\n"}}"#)
        s.send("m2", #"{"type":"signal","to":"m1","payload":{"type":"answer","sdp":"v=0\r\n"}}"#)
        s.send("m1", #"{"type":"signal","to_all":true,"payload":{"candidate":"candidate:1 1 udp 1 10.0.0.1 9 typ host"}}"#)
        s.send("o", #"{"type":"signal","to":"m1","payload":{"type":"answer"}}"#)
        s.send("o", #"{"type":"raise_hand","id":"c4"}"#)
        s.send("m2", #"{"type":"lock","id":"c5"}"#)
        s.send("m1", #"{"type":"signal","id":"c6","to":"nobody","payload":{}}"#)
        s.send("m1", #"{"type":"lower_hand","id":"c7"}"#)

        // A silence that ends by itself.
        s.send("f", #"{"type":"start_silence","id":"d1","silence_ms":5000}"#)
        s.advance(.seconds(6))

        // A drop and a resume by replay; a long absence and a fresh snapshot; a takeover.
        let seqBeforeDrop = s.room.seq
        s.drop("m2")
        s.send("f", #"{"type":"lock","id":"e1"}"#)
        s.join("m2", .member, since: seqBeforeDrop)
        let seqBeforeLongDrop = s.room.seq
        s.drop("m3")
        for _ in 0..<4 {
            s.send("f", #"{"type":"unlock"}"#)
            s.send("f", #"{"type":"lock"}"#)
        }
        s.join("m3", .member, since: seqBeforeLongDrop)
        s.join("m1", .member)
        s.join("m4", .member)
        s.send("f", #"{"type":"unlock","id":"e2"}"#)

        // Controls, stats, close, end.
        s.send("f", #"{"type":"promote","id":"f1","participant":"m1"}"#)
        s.send("f", #"{"type":"remove","id":"f2","participant":"m2"}"#)
        s.join("m2", .member)
        s.send("f", #"{"type":"request_stats","id":"f3"}"#)
        s.send("f", #"{"type":"set_phase","id":"f4","phase":"close"}"#)
        s.send("f", #"{"type":"advance_round","id":"f5"}"#)
        s.send("f", #"{"type":"end_silence","id":"f6"}"#)
        s.send("f", #"{"type":"end_turn","id":"f7"}"#)
        s.send("f", #"{"type":"clear_queue","id":"f8"}"#)
        s.send("o", #"{"type":"leave","id":"f9"}"#)
        s.send("f", #"{"type":"end_session","id":"g1"}"#)
        s.join("m5", .member)

        #expect(s.room.isEnded)
        // Every message is one valid JSON object, and the text round-trips through the parser.
        for text in s.sentText { #expect((try? JSON.parse(text))?.objectValue != nil) }

        let server = try SchemaValidator.run(direction: "server", lines: s.sentText)
        SchemaTests.expectAllPass(server, count: s.sentText.count)
        let client = try SchemaValidator.run(direction: "client", lines: s.clientText)
        SchemaTests.expectAllPass(client, count: s.clientText.count)

        // The session exercised every server message type and both kinds of welcome.
        #expect(Set(s.sent.map(\.wireName)) == (try SchemaTests.schemaTypes("server")))
        let welcomes = s.sent.compactMap { message -> String? in
            guard case .welcome(let welcome) = message else { return nil }
            switch welcome.catchUp {
            case .snapshot: return welcome.resumed ? "fresh snapshot" : "snapshot"
            case .replay: return "replay"
            }
        }
        #expect(Set(welcomes) == ["snapshot", "replay", "fresh snapshot"])
        #expect(s.closes.contains { $0.1 == CloseCode.replaced })
        #expect(s.closes.contains { $0.1 == CloseCode.removed })
        #expect(s.closes.contains { $0.1 == CloseCode.roomLocked })
        #expect(s.closes.contains { $0.1 == CloseCode.sessionEnded })
    }

    /// A client written for version 1 still drives a room: its command names are aliases the room acts on normally,
    /// and what comes back is version 2 (and matches the schemas).
    @Test func aVersion1ClientIsServedInVersion2Names() throws {
        let s = SessionDriver(config: RoomConfig())
        s.join("f", .facilitator)
        s.join("m1", .member)
        s.send("f", #"{"type":"set_phase","id":"v1","phase":"sharing"}"#)
        s.send("m1", #"{"type":"raise_hand","id":"v2"}"#)
        s.send("f", #"{"type":"set_queue_policy","id":"v3","policy":"least_spoken"}"#)
        s.send("f", #"{"type":"set_phase","id":"v4","phase":"ended"}"#)

        #expect(s.room.isEnded, "set_phase ended is end_session")
        let messages = s.sentText.compactMap { try? JSON.parse($0).objectValue }
        let queue = try #require(messages.last { $0["type"] == "queue_changed" })
        #expect(queue["queue_policy"] == "least_spoken")
        #expect(queue["policy"] == nil)
        #expect(messages.contains { $0["type"] == "session_ended" })
        #expect(messages.filter { $0["type"] == "ack" }.map { $0["id"] } == ["v1", "v2", "v3", "v4"])
        #expect(messages.allSatisfy { $0["type"] != "welcome" || $0["protocol"] == 2 })
        #expect(s.closes.contains { $0.1 == CloseCode.normal })
        let server = try SchemaValidator.run(direction: "server", lines: s.sentText)
        SchemaTests.expectAllPass(server, count: s.sentText.count)
    }
}
