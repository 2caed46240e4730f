import CircleJSON
import CircleProtocol
@testable import CircleRoom
import Testing

/// Every direct server message, parsed back and checked field by field.
@Suite struct EncodeOutboundTests {
    @Test(arguments: Samples.outbound)
    func everyMessageIsOneCompactJSONObjectOfItsType(_ message: Outbound) throws {
        let bytes = WireProtocol.encode(message)
        let object = try #require(try JSON.parse(bytes).objectValue)
        #expect(object["type"] == .string(message.wireName))
        // Compact: no whitespace outside strings, so re-serializing the parsed tree gives the same text.
        #expect(JSON.object(object).serialized() == bytes || message.isSignal)
        // Only events carry a sequence number.
        if case .event(let event) = message {
            #expect(object["seq"]?.intValue == Int(event.seq))
        } else {
            #expect(object["seq"] == nil || message.isWelcome)
        }
    }

    @Test func encodeIntoAppendsToAWriter() {
        var writer = JSONWriter()
        writer.beginArray()
        WireProtocol.encode(.ack("a"), into: &writer)
        WireProtocol.encode(.turnTimeUp(speaker: "m1"), into: &writer)
        writer.endArray()
        #expect(String(decoding: writer.bytes, as: UTF8.self)
            == #"[{"type":"ack","id":"a"},{"type":"turn_time_up","speaker":"m1"}]"#)
    }

    @Test func ack() {
        #expect(Wire.text(.ack("r\"1")) == #"{"type":"ack","id":"r\"1"}"#)
    }

    @Test func errorWithAndWithoutID() throws {
        #expect(Wire.text(.error("r1", .wrongPhase, message: "not allowed in this phase"))
            == #"{"type":"error","id":"r1","code":"wrong_phase","message":"not allowed in this phase"}"#)
        let object = try Wire.object(.error(nil, .roomLocked, message: "the room is locked"))
        #expect(object == ["type": "error", "code": "room_locked", "message": "the room is locked"])
    }

    @Test(arguments: ErrorCode.allCases)
    func everyErrorCodeHasItsWireName(_ code: ErrorCode) throws {
        #expect(try Wire.object(.error("x", code, message: code.defaultMessage))["code"] == .string(code.wireName))
    }

    @Test func reaction() throws {
        #expect(try Wire.object(.reaction(from: "m1", .wave)) == ["type": "reaction", "from": "m1", "kind": "wave"])
    }

    @Test func privateWordOmitsMissingText() throws {
        #expect(try Wire.object(.privateWord(from: "m1", text: "a\nb")) == ["type": "private_word", "from": "m1", "text": "a\nb"])
        #expect(try Wire.object(.privateWord(from: "m1", text: nil)) == ["type": "private_word", "from": "m1"])
    }

    @Test func turnNudgeAndTimeUp() throws {
        #expect(try Wire.object(.turnNudge(speaker: "m2", timeLeft: .milliseconds(29_999)))
            == ["type": "turn_nudge", "speaker": "m2", "time_left_ms": 29_999])
        #expect(try Wire.object(.turnTimeUp(speaker: "m2")) == ["type": "turn_time_up", "speaker": "m2"])
    }

    @Test func muteRequest() throws {
        #expect(try Wire.object(.muteRequest(.facilitator)) == ["type": "mute_request", "reason": "facilitator"])
        #expect(try Wire.object(.muteRequest(.silence)) == ["type": "mute_request", "reason": "silence"])
    }

    @Test func stats() throws {
        let object = try Wire.object(.stats([
            SpeakingStats(participant: "m1", turns: 2, passes: 1, spoken: .milliseconds(183_250)),
            SpeakingStats(participant: "m2"),
        ]))
        #expect(object == [
            "type": "stats",
            "stats": [
                ["participant": "m1", "turns": 2, "passes": 1, "spoken_ms": 183_250],
                ["participant": "m2", "turns": 0, "passes": 0, "spoken_ms": 0],
            ],
        ])
    }

    @Test func welcomeWithSnapshot() throws {
        let welcome = Welcome(participant: "m1", role: .member, seq: 12, resumed: false,
                              catchUp: .snapshot(Samples.snapshot),
                              timeLeft: TimeLeft(silence: .seconds(42), turn: .milliseconds(1500)))
        let object = try Wire.object(.welcome(welcome))
        #expect(object["participant"] == "m1")
        #expect(object["role"] == "member")
        #expect(object["seq"] == 12)
        #expect(object["resumed"] == false)
        #expect(object["time_left"] == ["silence_ms": 42_000, "turn_ms": 1500])
        #expect(object["replay"] == nil)
        let snapshot = try #require(object["snapshot"]?.objectValue)
        #expect(snapshot == [
            "phase": "silence",
            "silence_returns_to": "intro",
            "participants": [
                ["participant": "f1", "name": "Ana María \"Ani\" ✨", "role": "facilitator", "connection": "connected",
                 "mic": true, "camera": false, "muted": false],
                ["participant": "m1", "name": "Ana María \"Ani\" ✨", "role": "member", "connection": "reconnecting",
                 "mic": true, "camera": false, "muted": true],
                ["participant": "o1", "name": "Ana María \"Ani\" ✨", "role": "observer", "connection": "connected",
                 "mic": false, "camera": false, "muted": false],
            ],
            "queue": ["m1"],
            "queue_policy": "fifo",
            "speaker": "f1",
            "turn_length_ms": 120_000,
            "round": [["participant": "m1", "status": "done"], ["participant": "m2", "status": "passed"],
                      ["participant": "m3", "status": "waiting"]],
            "pacing": ["turn_length_ms": 180_000, "nudge_before_ms": 30_000, "auto_advance": true],
            "locked": true,
        ])
    }

    @Test func welcomeOmitsAbsentOptionalFields() throws {
        let welcome = Welcome(participant: "m1", role: .observer, seq: 0, resumed: false,
                              catchUp: .snapshot(Samples.bareSnapshot), timeLeft: TimeLeft())
        let object = try Wire.object(.welcome(welcome))
        #expect(object["time_left"] == [:])
        #expect(object["snapshot"] == [
            "phase": "intro", "participants": [], "queue": [], "queue_policy": "fifo", "round": [],
            "pacing": ["nudge_before_ms": 30_000, "auto_advance": false], "locked": false,
        ])
    }

    @Test func welcomeWithReplayCarriesTheEventsAsSentLive() throws {
        let events = [SequencedEvent(seq: 13, event: .lockChanged(locked: false)),
                      SequencedEvent(seq: 14, event: .participantJoined(Samples.view("m9")))]
        let welcome = Welcome(participant: "m1", role: .member, seq: 14, resumed: true, catchUp: .replay(events),
                              timeLeft: TimeLeft())
        let object = try Wire.object(.welcome(welcome))
        #expect(object["snapshot"] == nil)
        #expect(object["resumed"] == true)
        let replay = try #require(object["replay"]?.arrayValue)
        #expect(replay.count == 2)
        for (element, event) in zip(replay, events) {
            #expect(element == (try JSON.parse(WireProtocol.encode(.event(event)))))
        }
        let empty = Welcome(participant: "m1", role: .member, seq: 14, resumed: true, catchUp: .replay([]),
                            timeLeft: TimeLeft())
        #expect(try Wire.object(.welcome(empty))["replay"] == [])
    }

    @Test func textIsEscapedNeverRaw() throws {
        let name = "Zoë \"Z\" \\ \u{1} \n 😀"
        let object = try Wire.object(.event(SequencedEvent(seq: 1, event: .participantJoined(Samples.view("z", name: name)))))
        #expect(object["name"] == .string(name))
    }
}

extension Outbound {
    var isSignal: Bool {
        if case .signal = self { return true }
        return false
    }

    var isWelcome: Bool {
        if case .welcome = self { return true }
        return false
    }
}
