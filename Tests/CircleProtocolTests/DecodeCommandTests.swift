@testable import CircleProtocol
import CircleRoom
import Testing

/// Every client command decodes from its documented JSON form.
@Suite struct DecodeCommandTests {
    /// One sample per command form, with the command it must decode to (signal payloads are checked separately).
    static let samples: [(String, Command)] = [
        (#"{"type":"leave"}"#, .leave),
        (#"{"type":"signal","to":"m2","payload":{"sdp":"v=0"}}"#, .signal(to: .participant("m2"), payload: Array(#"{"sdp":"v=0"}"#.utf8))),
        (#"{"type":"signal","to":"m2","to_all":false,"payload":1}"#, .signal(to: .participant("m2"), payload: Array("1".utf8))),
        (#"{"type":"signal","to_all":true,"payload":[1,"x",null]}"#, .signal(to: .everyone, payload: Array(#"[1,"x",null]"#.utf8))),
        (#"{"type":"media","mic":true,"camera":false}"#, .media(mic: true, camera: false)),
        (#"{"type":"media","mic":false}"#, .media(mic: false, camera: nil)),
        (#"{"type":"media","camera":true}"#, .media(mic: nil, camera: true)),
        (#"{"type":"raise_hand"}"#, .raiseHand),
        (#"{"type":"lower_hand"}"#, .lowerHand),
        (#"{"type":"pass"}"#, .pass),
        (#"{"type":"end_turn"}"#, .endTurn),
        (#"{"type":"reaction","kind":"nod"}"#, .reaction(.nod)),
        (#"{"type":"reaction","kind":"smile"}"#, .reaction(.smile)),
        (#"{"type":"private_word","text":"I need a moment"}"#, .privateWord(text: "I need a moment")),
        (#"{"type":"private_word"}"#, .privateWord(text: nil)),
        (#"{"type":"set_phase","phase":"sharing"}"#, .setPhase(.sharing)),
        (#"{"type":"set_phase","phase":"close"}"#, .setPhase(.close)),
        (#"{"type":"advance_round"}"#, .advanceRound),
        (#"{"type":"start_silence","silence_ms":120000}"#, .startSilence(.seconds(120))),
        (#"{"type":"start_silence","silence_ms":1500.0}"#, .startSilence(.milliseconds(1500))),
        (#"{"type":"end_silence"}"#, .endSilence),
        (#"{"type":"give_floor","participant":"m3"}"#, .giveFloor(to: "m3")),
        (#"{"type":"give_floor"}"#, .giveFloor(to: nil)),
        (#"{"type":"move_in_queue","participant":"m3","position":0}"#, .moveInQueue("m3", to: 0)),
        (#"{"type":"remove_from_queue","participant":"m3"}"#, .removeFromQueue("m3")),
        (#"{"type":"clear_queue"}"#, .clearQueue),
        (#"{"type":"set_queue_policy","queue_policy":"least_spoken"}"#, .setQueuePolicy(.leastSpoken)),
        (#"{"type":"set_queue_policy","queue_policy":"fifo"}"#, .setQueuePolicy(.fifo)),
        (#"{"type":"set_pacing","turn_length_ms":180000,"nudge_before_ms":30000,"auto_advance":true}"#,
         .setPacing(Pacing(turnLength: .seconds(180), nudgeBefore: .seconds(30), autoAdvance: true))),
        (#"{"type":"set_pacing","nudge_before_ms":0,"auto_advance":false}"#,
         .setPacing(Pacing(turnLength: nil, nudgeBefore: .zero, autoAdvance: false))),
        (#"{"type":"mute","participant":"m3"}"#, .mute("m3")),
        (#"{"type":"unmute","participant":"m3"}"#, .unmute("m3")),
        (#"{"type":"mute_all_but_speaker"}"#, .muteAllButSpeaker),
        (#"{"type":"lock"}"#, .lock),
        (#"{"type":"unlock"}"#, .unlock),
        (#"{"type":"remove","participant":"m3"}"#, .remove("m3")),
        (#"{"type":"promote","participant":"m3"}"#, .promote("m3")),
        (#"{"type":"end_session"}"#, .endSession),
        (#"{"type":"request_stats"}"#, .requestStats),
        (#"{"type":"private_word_seen","participant":"m3"}"#, .privateWordSeen("m3")),
    ]

    @Test(arguments: samples)
    func decodes(_ text: String, _ expected: Command) {
        #expect(Wire.request(text) == ClientRequest(id: nil, command: expected))
    }

    @Test func samplesCoverEveryCommandType() {
        let covered = Set(Self.samples.map(\.1.wireName))
        #expect(covered == Set(CommandKind.allCases.map(\.rawValue)))
    }

    @Test func requestIDIsKept() {
        #expect(Wire.request(#"{"type":"raise_hand","id":"r-17"}"#) == ClientRequest(id: "r-17", command: .raiseHand))
        #expect(Wire.request(#"{"id":"é\u00e9","type":"lock"}"#)?.id == "éé")
        let longest = String(repeating: "x", count: 64)
        #expect(Wire.request(#"{"type":"lock","id":"\#(longest)"}"#)?.id == longest)
    }

    @Test func whitespaceAndMemberOrderDoNotMatter() {
        let text = " \n{ \"participant\" : \"m3\" ,\t\"id\":\"a\", \"type\" : \"mute\" }\r\n"
        #expect(Wire.request(text) == ClientRequest(id: "a", command: .mute("m3")))
    }

    @Test func unsafeBufferEntryPointDecodesTheSame() throws {
        let bytes = Array(#"{"type":"promote","participant":"m3","id":"p"}"#.utf8)
        let viaBuffer = bytes.withUnsafeBytes { WireProtocol.decode($0) }
        #expect(try viaBuffer.get() == ClientRequest(id: "p", command: .promote("m3")))
    }

    /// The engine validates ranges and phases; the protocol passes well-typed values through untouched.
    @Test func rangesAreTheEnginesToJudge() {
        #expect(Wire.request(#"{"type":"set_phase","phase":"silence"}"#)?.command == .setPhase(.silence))
        #expect(Wire.request(#"{"type":"start_silence","silence_ms":0}"#)?.command == .startSilence(.zero))
        #expect(Wire.request(#"{"type":"move_in_queue","participant":"m","position":99}"#)?.command == .moveInQueue("m", to: 99))
        #expect(Wire.request(#"{"type":"private_word","text":""}"#)?.command == .privateWord(text: ""))
    }

    /// A client encoding of every command decodes back to itself.
    @Test(arguments: samples.map(\.1))
    func clientEncodingRoundTrips(_ command: Command) throws {
        for id in [nil, "r\"1\\"] as [RequestID?] {
            let request = ClientRequest(id: id, command: command)
            #expect(try WireProtocol.decode(WireProtocol.encode(request)).get() == request)
        }
    }
}
