import CircleJSON
import Testing

@Suite("JSON raw member capture")
struct JSONCaptureTests {
    private func slice(_ bytes: [UInt8], _ range: Range<Int>?) -> String? {
        range.map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    @Test func reportsTheExactValueBytesOfRequestedMembers() throws {
        let bytes = Array(#"{ "type" : "signal", "payload" :  {"sdp": "v=0\r\n", "a": [1, 2]} , "to":"p2" }"#.utf8)
        let capture = try JSON.parseTopObject(bytes, rawMembers: ["payload", "to"])
        #expect(slice(bytes, capture.rawRanges[0]) == #"{"sdp": "v=0\r\n", "a": [1, 2]}"#)
        #expect(slice(bytes, capture.rawRanges[1]) == #""p2""#)
        #expect(capture.object["type"] == "signal")
        #expect(capture.object["payload"]?["a"] == [1, 2])
    }

    @Test func absentMembersHaveNoRange() throws {
        let capture = try JSON.parseTopObject(Array(#"{"type":"ping"}"#.utf8), rawMembers: ["payload"])
        #expect(capture.rawRanges == [nil])
    }

    @Test func capturesScalarValues() throws {
        let bytes = Array(#"{"payload":-1.5e3}"#.utf8)
        let capture = try JSON.parseTopObject(bytes, rawMembers: ["payload"])
        #expect(slice(bytes, capture.rawRanges[0]) == "-1.5e3")
    }

    @Test func ignoresNestedMembersWithTheSameName() throws {
        let bytes = Array(#"{"inner":{"payload":1}}"#.utf8)
        #expect(try JSON.parseTopObject(bytes, rawMembers: ["payload"]).rawRanges == [nil])
    }

    @Test func worksOnABorrowedBuffer() throws {
        let bytes = Array(#"{"payload":[true]}"#.utf8)
        let capture = try bytes.withUnsafeBytes { try JSON.parseTopObject($0, rawMembers: ["payload"]) }
        #expect(capture.rawRanges == [11..<17])
    }

    @Test(arguments: ["[1]", "1", #""payload""#, "null"])
    func rejectsNonObjects(_ text: String) {
        #expect(throws: JSONError.self) { try JSON.parseTopObject(Array(text.utf8), rawMembers: ["payload"]) }
    }

    @Test(arguments: [
        #"{"payload":{"a":1,"a":2}}"#, #"{"payload":[1,]}"#, #"{"payload":"\ud800"}"#, #"{"payload":1} x"#,
        #"{"payload":1,"payload":2}"#, #"{"payload":{"#,
    ])
    func validatesCapturedMembersFully(_ text: String) {
        #expect(throws: JSONError.self) { try JSON.parseTopObject(Array(text.utf8), rawMembers: ["payload"]) }
    }

    @Test func appliesDepthLimitsToTheWholeDocument() {
        let limits = JSONLimits(maxDepth: 2)
        #expect(throws: Never.self) { try JSON.parseTopObject(Array(#"{"p":[1]}"#.utf8), rawMembers: ["p"], limits: limits) }
        #expect(throws: JSONError(offset: 6, message: "nesting too deep")) {
            try JSON.parseTopObject(Array(#"{"p":[[1]]}"#.utf8), rawMembers: ["p"], limits: limits)
        }
        #expect(throws: JSONError.self) {
            try JSON.parseTopObject(Array("{}".utf8), rawMembers: [], limits: JSONLimits(maxDepth: 0))
        }
    }
}
