import CircleJSON
import CircleProtocol
@testable import CircleRoom
import Testing

/// Every room event: flat, `type` then `seq`, then the event's own fields.
@Suite struct EncodeEventTests {
    func encoded(_ event: RoomEvent, seq: UInt64 = 7) throws -> JSONObject {
        try Wire.object(.event(SequencedEvent(seq: seq, event: event)))
    }

    @Test func typeAndSeqComeFirst() {
        #expect(Wire.text(.event(SequencedEvent(seq: 9_007_199_254_740_991, event: .lockChanged(locked: true))))
            == #"{"type":"lock_changed","seq":9007199254740991,"locked":true}"#)
    }

    @Test func participantJoinedIsTheFlatParticipantRecord() throws {
        let view = Samples.view("m1", name: "Ana", role: .cofacilitator, connection: .reconnecting, mic: false,
                                camera: true, muted: true)
        #expect(try encoded(.participantJoined(view)) == [
            "type": "participant_joined", "seq": 7, "participant": "m1", "name": "Ana", "role": "cofacilitator",
            "connection": "reconnecting", "mic": false, "camera": true, "muted": true,
        ])
    }

    @Test(arguments: [LeaveReason.left, .timedOut, .removed])
    func participantLeft(_ reason: LeaveReason) throws {
        #expect(try encoded(.participantLeft("m1", reason: reason))
            == ["type": "participant_left", "seq": 7, "participant": "m1", "reason": .string(reason.wireName)])
    }

    @Test func connectionChanged() throws {
        #expect(try encoded(.connectionChanged("m1", .reconnecting))
            == ["type": "connection_changed", "seq": 7, "participant": "m1", "connection": "reconnecting"])
        #expect(try encoded(.connectionChanged("m1", .connected))["connection"] == "connected")
    }

    @Test func mediaChanged() throws {
        #expect(try encoded(.mediaChanged("m1", mic: true, camera: false))
            == ["type": "media_changed", "seq": 7, "participant": "m1", "mic": true, "camera": false])
    }

    @Test func muteChanged() throws {
        #expect(try encoded(.muteChanged(["m1", "m2"], muted: true))
            == ["type": "mute_changed", "seq": 7, "participants": ["m1", "m2"], "muted": true])
        #expect(try encoded(.muteChanged(["m1"], muted: false))["muted"] == false)
    }

    @Test(arguments: Role.allCases)
    func roleChanged(_ role: Role) throws {
        #expect(try encoded(.roleChanged("m1", role))
            == ["type": "role_changed", "seq": 7, "participant": "m1", "role": .string(role.rawValue)])
    }

    @Test func queueChanged() throws {
        #expect(try encoded(.queueChanged(["m2", "m1"], policy: .leastSpoken))
            == ["type": "queue_changed", "seq": 7, "queue": ["m2", "m1"], "queue_policy": "least_spoken"])
        #expect(try encoded(.queueChanged([], policy: .fifo))
            == ["type": "queue_changed", "seq": 7, "queue": [], "queue_policy": "fifo"])
    }

    @Test func floorGiven() throws {
        #expect(try encoded(.floorGiven("m2", turnLength: .seconds(180)))
            == ["type": "floor_given", "seq": 7, "speaker": "m2", "turn_length_ms": 180_000])
        #expect(try encoded(.floorGiven("m2", turnLength: nil))
            == ["type": "floor_given", "seq": 7, "speaker": "m2"])
    }

    @Test(arguments: [TurnEndReason.finished, .passed, .facilitator, .timeUp, .phase, .left])
    func turnEnded(_ reason: TurnEndReason) throws {
        #expect(try encoded(.turnEnded("m2", reason: reason))
            == ["type": "turn_ended", "seq": 7, "speaker": "m2", "reason": .string(reason.wireName)])
    }

    @Test func roundChanged() throws {
        #expect(try encoded(.roundChanged(Samples.round)) == [
            "type": "round_changed", "seq": 7,
            "round": [["participant": "m1", "status": "done"], ["participant": "m2", "status": "passed"],
                      ["participant": "m3", "status": "waiting"]],
        ])
        #expect(try encoded(.roundChanged([]))["round"] == [])
    }

    @Test(arguments: Phase.allCases)
    func phaseChanged(_ phase: Phase) throws {
        #expect(try encoded(.phaseChanged(phase, silence: nil)) == ["type": "phase_changed", "seq": 7, "phase": .string(phase.wireName)])
    }

    /// Into silence: its length and where it returns, so a client need not remember the phase before.
    @Test(arguments: [Phase.intro, .sharing, .close])
    func phaseChangedIntoSilenceCarriesItsLengthAndReturn(_ origin: Phase) throws {
        #expect(try encoded(.phaseChanged(.silence, silence: .milliseconds(90_500), returnsTo: origin))
            == ["type": "phase_changed", "seq": 7, "phase": "silence", "silence_ms": 90_500,
                "silence_returns_to": .string(origin.wireName)])
    }

    @Test func pacingChanged() throws {
        #expect(try encoded(.pacingChanged(Samples.pacing)) == [
            "type": "pacing_changed", "seq": 7,
            "pacing": ["turn_length_ms": 180_000, "nudge_before_ms": 30_000, "auto_advance": true],
        ])
        #expect(try encoded(.pacingChanged(.unpaced))["pacing"] == ["nudge_before_ms": 30_000, "auto_advance": false])
    }

    @Test func lockChanged() throws {
        #expect(try encoded(.lockChanged(locked: false)) == ["type": "lock_changed", "seq": 7, "locked": false])
    }

    @Test func sessionEnded() throws {
        #expect(Wire.text(.event(SequencedEvent(seq: 40, event: .sessionEnded))) == #"{"type":"session_ended","seq":40}"#)
    }

    @Test func subMillisecondDurationsRoundDown() throws {
        #expect(try encoded(.floorGiven("m", turnLength: .nanoseconds(1_999_999)))["turn_length_ms"] == 1)
    }
}
