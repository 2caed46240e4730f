@testable import CircleProtocol
import CircleJSON
import CircleRoom
import Testing

/// The scanning decoder must give exactly what the tree-based decoder (`ReferenceDecoder`) gave: the same request,
/// or the same failure (code, id and message), for every message — documented, hostile or random.
@Suite struct DecodeDifferentialTests {
    static func expectSame(_ bytes: [UInt8], limits: ProtocolLimits = .init(), sourceLocation: SourceLocation = #_sourceLocation) {
        let new = WireProtocol.decode(bytes, limits: limits)
        let old = bytes.withUnsafeBytes { ReferenceDecoder.decode($0, limits: limits) }
        #expect(new == old, "input \(String(decoding: bytes, as: UTF8.self))", sourceLocation: sourceLocation)
    }

    static let hostile: [String] = [
        #"{"type":"signal","to":"m2","payload":{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\n"}}"#,
        #"{"type":"signal","to_all":true,"payload":{"a":1,"a":2}}"#,
        #"{"type":"signal","to_all":true,"payload":{"K":1,"\u212A":2}}"#,
        "{\"type\":\"signal\",\"to_all\":true,\"payload\":{\"é\":1,\"e\u{301}\":2}}",
        #"{"type":"signal","to_all":true,"payload":"\uD800"}"#,
        #"{"type":"signal","to_all":true,"payload":[1,]}"#,
        #"{"type":"signal","to_all":true,"payload":1e400}"#,
        #"{"type":"signal","to_all":true,"payload":01}"#,
        #"{"type":"signal","to_all":true}"#, #"{"type":"signal","payload":1}"#,
        #"{"type":"signal","to":"a","to_all":true,"payload":1}"#, #"{"type":"signal","to":"a","to_all":false,"payload":1}"#,
        #"{"type":"signal","to":null,"to_all":true,"payload":1}"#, #"{"type":"signal","to_all":"yes","payload":1}"#,
        #"{"type":"signal","to_all":true,"payload":1,"extra":1}"#, #"{"type":"signal","to_all":true,"payload":1,"mic":true}"#,
        #"{"\u0074ype":"leave"}"#, #"{"type":"\u006ceave"}"#, #"{"type":"leave","\u0069d":"x"}"#,
        #"{"type":"leave","id":"a","\u0069d":"b"}"#, #"{"type":"leave","type":"leave"}"#,
        #"{"type":"leave","id":""}"#, #"{"type":"leave","id":1}"#, #"{"type":"leave","id":null}"#,
        #"{"id":"x"}"#, #"{"type":1,"id":"x"}"#, #"{"type":"nope","id":"x"}"#, #"{"type":"LEAVE"}"#,
        #"{"type":"leave ","id":"x"}"#, #"{"type":"tex"}"#, #"{"type":"text"}"#, #"{"type":"private_word","text":"hi"}"#,
        #"{"type":"private_word","text":1}"#, #"{"type":"private_word","type":"x"}"#,
        #"{"type":"media"}"#, #"{"type":"media","mic":1}"#, #"{"type":"media","mic":null,"camera":true}"#,
        #"{"type":"start_silence","silence_ms":-1}"#, #"{"type":"start_silence","silence_ms":1.5}"#,
        #"{"type":"start_silence","silence_ms":1e3}"#, #"{"type":"start_silence","silence_ms":-0}"#,
        #"{"type":"start_silence","silence_ms":9007199254740993}"#, #"{"type":"start_silence","silence_ms":"5"}"#,
        #"{"type":"move_in_queue","participant":"m1","position":2}"#, #"{"type":"move_in_queue","position":2}"#,
        #"{"type":"set_pacing","nudge_before_ms":1000,"auto_advance":true}"#,
        #"{"type":"set_pacing","turn_length_ms":null,"nudge_before_ms":1000,"auto_advance":true}"#,
        #"{"type":"set_pacing","turn_length_ms":5,"nudge_before_ms":1000,"auto_advance":1}"#,
        #"{"type":"set_queue_policy","policy":"fifo"}"#, #"{"type":"set_queue_policy","policy":"nope"}"#,
        #"{"type":"set_queue_policy","queue_policy":"fifo"}"#, #"{"type":"set_phase","phase":"ended","id":"e"}"#,
        #"{"type":"set_queue_policy","queue_policy":"fifo","policy":"fifo"}"#,
        #"{"type":"set_phase","phase":"\u0065nded"}"#,
        #"{"type":"reaction","kind":"nod"}"#, #"{"type":"reaction","kind":"\u006eod"}"#, #"{"type":"reaction"}"#,
        #"{"type":"set_phase","phase":"sharing","id":"p"}"#, #"{"type":"give_floor"}"#, #"{"type":"give_floor","participant":"m1"}"#,
        #"{"type":"mute","participant":"m1"}"#, #"{"type":"promote"}"#,
        "{\"type\":\"leave\",\"ty\u{301}pe\":1}", "{\"type\":\"leave\",\"é\":1}", "{\"tÿpe\":\"leave\"}",
        " {\"type\":\"leave\"} ", "[]", "1", "", "{", "{\"type\":\"leave\"", "{\"type\":\"leave\"}x",
        "{\"type\":\"leave\",}", "{\"type\":\"leave\" \"id\":\"x\"}", "{\"id\":\"abc\",\"type\":\"leave\",",
    ]

    @Test(arguments: hostile)
    func hostileMessagesDecodeAlike(_ text: String) {
        Self.expectSame(Array(text.utf8))
        Self.expectSame(Array(text.utf8), limits: ProtocolLimits(maxDepth: 1, maxStringBytes: 4, maxMembers: 3, maxRequestIDBytes: 2))
    }

    @Test func documentedCommandsDecodeAlike() {
        for (text, _) in DecodeCommandTests.samples { Self.expectSame(Array(text.utf8)) }
    }

    /// Seeded random edits (insert, delete, replace with a JSON token) of the documented commands.
    @Test func mutatedMessagesDecodeAlike() {
        var state: UInt64 = 0xC1C1E_DEC0DE
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let tokens: [[UInt8]] = [
            "{", "}", "[", "]", ",", ":", " ", "\"", "\\", "\\u0061", "\\uD800", "1", "-", "1e999", "true", "null",
            "\"id\"", "\"type\"", "\"to\"", "\"to_all\"", "\"payload\"", "\"x\"", "é", "\u{212A}", "\"\"",
        ].map { Array($0.utf8) } + [[0xFF], [0x00], [0x0A]]
        let samples = DecodeCommandTests.samples.map { Array($0.0.utf8) }
        let limitsChoices = [ProtocolLimits(), ProtocolLimits(maxDepth: 2, maxStringBytes: 8, maxMembers: 3, maxRequestIDBytes: 3)]
        for _ in 0..<20_000 {
            var text = samples[Int(next() % UInt64(samples.count))]
            for _ in 0..<(1 + Int(next() % 3)) {
                let at = text.isEmpty ? 0 : Int(next() % UInt64(text.count + 1))
                let token = tokens[Int(next() % UInt64(tokens.count))]
                switch next() % 3 {
                case 0: text.insert(contentsOf: token, at: at)
                case 1: if at < text.count { text.remove(at: at) }
                default: text.replaceSubrange(at..<min(text.count, at + token.count), with: token)
                }
            }
            Self.expectSame(text, limits: limitsChoices[Int(next() % 2)])
        }
    }
}
