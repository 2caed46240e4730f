import CircleProtocol
import CircleRoom
import Testing

/// Hostile and malformed client messages: each gets `invalid` (or `too_large`), the request id when it is readable,
/// and a fixed message that never repeats the input.
@Suite struct DecodeErrorTests {
    /// Checks a failure's code, id, and that its message does not leak a marker planted in the input.
    func expectFailure(
        _ text: String, code: ErrorCode = .invalid, id: RequestID?, limits: ProtocolLimits = .init(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let failure = Wire.failure(text, limits: limits, sourceLocation: sourceLocation) else { return }
        #expect(failure.code == code, sourceLocation: sourceLocation)
        #expect(failure.id == id, sourceLocation: sourceLocation)
        #expect(!failure.message.isEmpty, sourceLocation: sourceLocation)
        #expect(!failure.message.contains("SECRET"), sourceLocation: sourceLocation)
        #expect(failure.reply == .error(id, code, message: failure.message), sourceLocation: sourceLocation)
    }

    // MARK: the envelope

    @Test func malformedJSON() {
        expectFailure(#"{"type":"raise_hand","id":"r1""#, id: "r1")
        expectFailure(#"{"type":"raise_hand","id":"r1",}"#, id: "r1")
        expectFailure(#"{"id":"r1","type":'lock'}"#, id: "r1")
        expectFailure(#"{"type":"lock","id":"r1"} {"#, id: "r1")
        expectFailure(#"{"type":"lock","text":"SECRET\x"}"#, id: nil)
        expectFailure("", id: nil)
        expectFailure("   ", id: nil)
    }

    @Test func aStringOverTheCapIsTooLargeNotInvalid() {
        let long = String(repeating: "S", count: 64 * 1024 + 1)
        expectFailure(#"{"type":"signal","id":"s1","to":"b","payload":"\#(long)"}"#, code: .tooLarge, id: "s1")
        expectFailure(#"{"type":"private_word","id":"p1","text":"\#(long)"}"#, code: .tooLarge, id: "p1")
        let fits = String(repeating: "S", count: 64 * 1024 - 100)
        guard case .success = WireProtocol.decode(Array(#"{"type":"signal","id":"s2","to":"b","payload":"\#(fits)"}"#.utf8))
        else { Issue.record("a payload string under the cap decodes"); return }
    }

    /// Exactly at the cap a string decodes; one byte more is `too_large`, however the string is written: plain,
    /// with escapes, in multi-byte UTF-8, nested inside the payload, or as a key.
    @Test func oneByteOverTheStringCapIsTooLarge() {
        let cap = ProtocolLimits().maxStringBytes
        func payload(_ json: String) -> String { #"{"type":"signal","id":"s","to":"b","payload":\#(json)}"# }
        let plain = String(repeating: "a", count: cap)
        guard case .success = Wire.decode(payload("\"\(plain)\"")) else {
            Issue.record("a string of exactly the cap decodes")
            return
        }
        expectFailure(payload("\"\(plain)a\""), code: .tooLarge, id: "s")
        // `\n` is one byte unescaped: cap - 1 plain bytes and two escapes is cap + 1.
        expectFailure(payload("\"\(plain.dropLast())\\n\\n\""), code: .tooLarge, id: "s")
        guard case .success = Wire.decode(payload("\"\(plain.dropLast())\\n\"")) else {
            Issue.record("an escaped string of exactly the cap decodes")
            return
        }
        // Two-byte characters: the cap falls on a boundary (cap is even), one more byte is over it.
        let wide = String(repeating: "é", count: cap / 2)
        guard case .success = Wire.decode(payload("\"\(wide)\"")) else {
            Issue.record("a multi-byte string of exactly the cap decodes")
            return
        }
        expectFailure(payload("\"\(wide)a\""), code: .tooLarge, id: "s")
        expectFailure(payload("\"a\(wide)\""), code: .tooLarge, id: "s")
        expectFailure(payload(#"{"sdp":"\#(plain)a"}"#), code: .tooLarge, id: "s")
        expectFailure(payload(#"{"\#(plain)a":1}"#), code: .tooLarge, id: "s")
        expectFailure(#"{"type":"private_word","id":"p","text":"\#(plain)a"}"#, code: .tooLarge, id: "p")
    }

    @Test func duplicateKeysAreMalformed() {
        expectFailure(#"{"type":"lock","type":"unlock","id":"r1"}"#, id: "r1")
        // Two ids: neither can be trusted.
        expectFailure(#"{"type":"lock","id":"a","id":"b"}"#, id: nil)
    }

    @Test(arguments: [#"[{"type":"lock","id":"r1"}]"#, #""lock""#, "42", "null", "true"])
    func nonObject(_ text: String) {
        expectFailure(text, id: nil)
    }

    @Test func missingType() {
        expectFailure(#"{"id":"r1"}"#, id: "r1")
        expectFailure(#"{}"#, id: nil)
    }

    @Test func illTypedType() {
        expectFailure(#"{"type":7,"id":"r1"}"#, id: "r1")
        expectFailure(#"{"type":null,"id":"r1"}"#, id: "r1")
        expectFailure(#"{"type":["lock"],"id":"r1"}"#, id: "r1")
    }

    @Test func unknownType() {
        expectFailure(#"{"type":"SECRET_take_over","id":"r1"}"#, id: "r1")
        expectFailure(#"{"type":"Lock","id":"r1"}"#, id: "r1")
        expectFailure(#"{"type":"","id":"r1"}"#, id: "r1")
        // Server-to-client types are not commands.
        expectFailure(#"{"type":"welcome","id":"r1"}"#, id: "r1")
    }

    @Test func unknownField() {
        expectFailure(#"{"type":"raise_hand","id":"r1","SECRET":1}"#, id: "r1")
        expectFailure(#"{"type":"mute","id":"r1","participant":"m","reason":"x"}"#, id: "r1")
        expectFailure(#"{"type":"set_pacing","id":"r1","nudge_before_ms":0,"auto_advance":false,"turn_length":5}"#, id: "r1")
    }

    @Test func illTypedID() {
        expectFailure(#"{"type":"lock","id":17}"#, id: nil)
        expectFailure(#"{"type":"lock","id":null}"#, id: nil)
        expectFailure(#"{"type":"lock","id":{"r":1}}"#, id: nil)
    }

    @Test func oversizeID() {
        let tooLong = String(repeating: "x", count: 65)
        expectFailure(#"{"type":"lock","id":"\#(tooLong)"}"#, id: nil)
        // Also when the rest of the message is malformed.
        expectFailure(#"{"type":"lock","id":"\#(tooLong)","#, id: nil)
        // Bytes, not characters: 33 two-byte characters are 66 bytes.
        expectFailure(#"{"type":"lock","id":"\#(String(repeating: "é", count: 33))"}"#, id: nil)
    }

    @Test func emptyID() {
        expectFailure(#"{"type":"lock","id":""}"#, id: nil)
    }

    @Test func deepNesting() {
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        expectFailure(#"{"type":"signal","id":"r1","to":"m2","payload":\#(deep)}"#, id: "r1")
        expectFailure(#"{"payload":\#(deep),"type":"signal","id":"r1","to":"m2"}"#, id: "r1")
        // A custom limit applies: the message object is depth 1, so depth 3 allows `[[x]]`... not `[[[x]]]`.
        let limits = ProtocolLimits(maxDepth: 3)
        #expect(Wire.decode(#"{"type":"signal","to":"m","payload":[[1]]}"#, limits: limits).isSuccess)
        expectFailure(#"{"type":"signal","id":"r1","to":"m","payload":[[[1]]]}"#, id: "r1", limits: limits)
    }

    @Test func hostileNestingDoesNotOverflowTheStack() {
        let deep = String(repeating: "[", count: 100_000)
        expectFailure(#"{"id":"r1","type":"signal","to":"m2","payload":\#(deep)"#, id: "r1")
        expectFailure(String(repeating: "{\"a\":", count: 20_000), id: nil)
    }

    @Test func oversizeMessage() {
        let limits = ProtocolLimits(maxMessageBytes: 64)
        let text = #"{"id":"r1","type":"signal","to":"m2","payload":"\#(String(repeating: "x", count: 64))"}"#
        expectFailure(text, code: .tooLarge, id: "r1", limits: limits)
    }

    @Test func oversizeString() {
        let limits = ProtocolLimits(maxStringBytes: 16)
        expectFailure(#"{"id":"r1","type":"private_word","text":"\#(String(repeating: "x", count: 17))"}"#, code: .tooLarge, id: "r1",
                      limits: limits)
    }

    @Test func tooManyMembers() {
        let limits = ProtocolLimits(maxMembers: 4)
        expectFailure(#"{"id":"r1","type":"signal","to":"m","payload":[1,2,3,4,5]}"#, id: "r1", limits: limits)
    }

    @Test func invalidUnicodeEscape() {
        expectFailure(#"{"id":"r1","type":"private_word","text":"\ud800"}"#, id: "r1")
    }

    // MARK: per command: missing and ill-typed fields

    @Test(arguments: [
        // signal
        #"{"type":"signal","id":"r1","to":"m2"}"#,
        #"{"type":"signal","id":"r1","payload":{}}"#,
        #"{"type":"signal","id":"r1","to_all":false,"payload":{}}"#,
        #"{"type":"signal","id":"r1","to":"m2","to_all":true,"payload":{}}"#,
        #"{"type":"signal","id":"r1","to":7,"payload":{}}"#,
        #"{"type":"signal","id":"r1","to":null,"payload":{}}"#,
        #"{"type":"signal","id":"r1","to_all":"yes","payload":{}}"#,
        #"{"type":"signal","id":"r1","to":"*","to_all":1,"payload":{}}"#,
        // media
        #"{"type":"media","id":"r1"}"#,
        #"{"type":"media","id":"r1","mic":"on"}"#,
        #"{"type":"media","id":"r1","mic":true,"camera":0}"#,
        #"{"type":"media","id":"r1","mic":null}"#,
        // reaction
        #"{"type":"reaction","id":"r1"}"#,
        #"{"type":"reaction","id":"r1","kind":"SECRET"}"#,
        #"{"type":"reaction","id":"r1","kind":1}"#,
        // private_word
        #"{"type":"private_word","id":"r1","text":42}"#,
        #"{"type":"private_word","id":"r1","text":null}"#,
        // set_phase
        #"{"type":"set_phase","id":"r1"}"#,
        #"{"type":"set_phase","id":"r1","phase":"SECRET"}"#,
        #"{"type":"set_phase","id":"r1","phase":2}"#,
        // start_silence
        #"{"type":"start_silence","id":"r1"}"#,
        #"{"type":"start_silence","id":"r1","silence_ms":"60000"}"#,
        #"{"type":"start_silence","id":"r1","silence_ms":-1}"#,
        #"{"type":"start_silence","id":"r1","silence_ms":1.5}"#,
        #"{"type":"start_silence","id":"r1","silence_ms":1e300}"#,
        #"{"type":"start_silence","id":"r1","silence_ms":60}"#.replacingOccurrences(of: "silence_ms", with: "seconds"),
        // give_floor
        #"{"type":"give_floor","id":"r1","participant":5}"#,
        #"{"type":"give_floor","id":"r1","participant":null}"#,
        // move_in_queue
        #"{"type":"move_in_queue","id":"r1","participant":"m"}"#,
        #"{"type":"move_in_queue","id":"r1","position":0}"#,
        #"{"type":"move_in_queue","id":"r1","participant":"m","position":-1}"#,
        #"{"type":"move_in_queue","id":"r1","participant":"m","position":"0"}"#,
        #"{"type":"move_in_queue","id":"r1","participant":"m","position":0.5}"#,
        // remove_from_queue, mute, unmute, remove, promote
        #"{"type":"remove_from_queue","id":"r1"}"#,
        #"{"type":"mute","id":"r1"}"#,
        #"{"type":"mute","id":"r1","participant":["m"]}"#,
        #"{"type":"unmute","id":"r1"}"#,
        #"{"type":"unmute","id":"r1","participant":false}"#,
        #"{"type":"remove","id":"r1"}"#,
        #"{"type":"remove","id":"r1","participant":{}}"#,
        #"{"type":"promote","id":"r1"}"#,
        #"{"type":"promote","id":"r1","participant":1}"#,
        // set_queue_policy
        #"{"type":"set_queue_policy","id":"r1"}"#,
        #"{"type":"set_queue_policy","id":"r1","policy":"lifo"}"#,
        #"{"type":"set_queue_policy","id":"r1","queue_policy":"lifo"}"#,
        #"{"type":"set_queue_policy","id":"r1","queue_policy":"fifo","policy":"fifo"}"#,
        // set_pacing
        #"{"type":"set_pacing","id":"r1","auto_advance":true}"#,
        #"{"type":"set_pacing","id":"r1","nudge_before_ms":0}"#,
        #"{"type":"set_pacing","id":"r1","turn_length_ms":null,"nudge_before_ms":0,"auto_advance":true}"#,
        #"{"type":"set_pacing","id":"r1","turn_length_ms":"3m","nudge_before_ms":0,"auto_advance":true}"#,
        #"{"type":"set_pacing","id":"r1","nudge_before_ms":0,"auto_advance":"yes"}"#,
        // commands without fields take none
        #"{"type":"leave","id":"r1","reason":"bye"}"#,
        #"{"type":"raise_hand","id":"r1","participant":"m2"}"#,
        #"{"type":"end_session","id":"r1","force":true}"#,
    ])
    func badFields(_ text: String) {
        expectFailure(text, id: "r1")
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
