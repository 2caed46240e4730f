import CircleJSON
import CircleProtocol
import CircleRoom
import Testing

/// A signal's payload goes from the client's text to every recipient's text byte for byte.
@Suite struct SignalRelayTests {
    /// A payload a re-serializer would change: whitespace, unicode escapes, escaped slashes, number spellings.
    static let payload = """
        { "type" : "offer",\t"sdp" : "v=0\\r\\no=- 46117 2 IN IP4 127.0.0.1\\r\\n",
          "note":"caf\\u00e9 \\ud83d\\ude00 \\/ é", "n": 1.50E+2 , "deep":[ [ {} ] , null ] }
        """

    @Test func payloadBytesAreRelayedVerbatim() throws {
        let text = #"{"type":"signal","id":"s1","to":"m2","payload":"# + Self.payload + "}"
        let request = try WireProtocol.decode(Array(text.utf8)).get()
        guard case .signal(.participant("m2"), let bytes) = request.command else {
            Issue.record("not a signal to m2")
            return
        }
        #expect(bytes == Array(Self.payload.utf8))

        let out = WireProtocol.encode(.signal(from: "m1", payload: bytes))
        let expected = #"{"type":"signal","from":"m1","payload":"# + Self.payload + "}"
        #expect(out == Array(expected.utf8))
        // Still one valid JSON text.
        #expect(try JSON.parse(out)["from"] == "m1")
    }

    @Test(arguments: ["0", "-1.5e-3", "\"a string\"", "true", "false", "null", "[]", "{}", "\"\\u0000\""])
    func anyJSONValueIsAPayload(_ payload: String) throws {
        let request = try Wire.decode(#"{"type":"signal","to_all":true,"payload":"# + payload + "}").get()
        #expect(request.command == .signal(to: .everyone, payload: Array(payload.utf8)))
    }

    @Test func surroundingWhitespaceIsNotPartOfThePayload() throws {
        let request = try Wire.decode("{\"type\":\"signal\",\"to\":\"m\",\"payload\" :  \n [1] \t}").get()
        #expect(request.command == .signal(to: .participant("m"), payload: Array("[1]".utf8)))
    }

    @Test func aNestedPayloadMemberIsNotTheSignalsPayload() throws {
        let request = try Wire.decode(#"{"type":"signal","to":"m","payload":{"payload":2}}"#).get()
        #expect(request.command == .signal(to: .participant("m"), payload: Array(#"{"payload":2}"#.utf8)))
    }

    @Test func aPayloadOnAnotherCommandIsAnUnknownField() {
        #expect(Wire.failure(#"{"type":"lock","payload":{}}"#)?.code == .invalid)
    }

    @Test func invalidJSONInsideThePayloadIsRefused() {
        #expect(Wire.failure(#"{"type":"signal","id":"r","to":"m","payload":{"sdp":}}"#)?.id == "r")
        #expect(Wire.failure(#"{"type":"signal","id":"r","to":"m","payload":NaN}"#)?.id == "r")
    }
}
