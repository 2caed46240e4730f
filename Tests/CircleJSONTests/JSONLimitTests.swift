import CircleJSON
import Testing

@Suite("JSON limits")
struct JSONLimitTests {
    private func nestedArrays(_ depth: Int) -> String { String(repeating: "[", count: depth) + String(repeating: "]", count: depth) }

    private func nestedObjects(_ depth: Int) -> String {
        String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)
    }

    @Test func defaultDepthAdmitsThirtyTwoLevels() {
        #expect(parseError(nestedArrays(32)) == nil)
        #expect(parseError(nestedObjects(32)) == nil)
    }

    @Test func rejectsTheThirtyThirdLevelAtItsBracket() {
        #expect(parseError(nestedArrays(33)) == JSONError(offset: 32, message: "nesting too deep"))
        #expect(parseError(nestedObjects(33))?.message == "nesting too deep")
    }

    @Test func honoursACustomDepth() {
        let limits = JSONLimits(maxDepth: 2)
        #expect(parseError(#"[{"a":1}]"#, limits: limits) == nil)
        #expect(parseError(#"[{"a":[]}]"#, limits: limits)?.message == "nesting too deep")
    }

    @Test func depthZeroAdmitsOnlyScalars() {
        let limits = JSONLimits(maxDepth: 0)
        #expect(parseError("1", limits: limits) == nil)
        #expect(parseError("[]", limits: limits)?.message == "nesting too deep")
        #expect(parseError("{}", limits: limits)?.message == "nesting too deep")
    }

    @Test func hostileDeepNestingFailsWithoutExhaustingTheStack() {
        #expect(parseError(String(repeating: "[", count: 1_000_000))?.message == "nesting too deep")
        #expect(parseError(String(repeating: #"{"a":"#, count: 200_000))?.message == "nesting too deep")
    }

    @Test func stringsUpToTheByteLimitPass() throws {
        let limits = JSONLimits(maxStringBytes: 4)
        #expect(try JSON.parse(#""abcd""#, limits: limits) == "abcd")
        #expect(try JSON.parse(#""\n\t\"\\""#, limits: limits) == "\n\t\"\\")
        #expect(try JSON.parse(#""éé""#, limits: limits) == "éé")
        #expect(try JSON.parse(#""\u00e9\u00e9""#, limits: limits) == "éé")
    }

    @Test(arguments: [#""abcde""#, #""\nabcd""#, #""abcd\n""#, #""ééa""#, #""\u00e9\u00e9a""#, #"{"abcde":1}"#, #"["😀a"]"#])
    func stringsOverTheByteLimitFail(_ text: String) {
        #expect(parseError(text, limits: JSONLimits(maxStringBytes: 4))?.message == "string too long")
    }

    @Test func anUnterminatedStringOverTheLimitIsTooLong() {
        #expect(parseError(#""abcdefgh"#, limits: JSONLimits(maxStringBytes: 4))?.message == "string too long")
    }

    @Test func containersUpToTheMemberLimitPass() {
        let limits = JSONLimits(maxMembers: 3)
        #expect(parseError("[1,2,3]", limits: limits) == nil)
        #expect(parseError(#"{"a":1,"b":2,"c":3}"#, limits: limits) == nil)
    }

    @Test func arraysOverTheMemberLimitFail() {
        #expect(parseError("[1,2,3,4]", limits: JSONLimits(maxMembers: 3))?.message == "too many elements")
    }

    @Test func objectsOverTheMemberLimitFail() {
        let text = #"{"a":1,"b":2,"c":3,"d":4}"#
        #expect(parseError(text, limits: JSONLimits(maxMembers: 3))?.message == "too many members")
    }

    @Test func theDefaultMemberLimitIsTenThousand() {
        let ok = "[" + Array(repeating: "0", count: 10_000).joined(separator: ",") + "]"
        #expect(parseError(ok) == nil)
        #expect(parseError(String(ok.dropLast()) + ",0]")?.message == "too many elements")
    }

    @Test(arguments: [
        #"{"secret-word":1,"secret-word":2}"#, #"["secret-word\x"]"#, "[secret-word]", #""secret-word"#,
        "[1] secret-word", #"{"secret-word" 1}"#,
    ])
    func errorMessagesNeverEchoInput(_ text: String) throws {
        let error = try #require(parseError(text))
        #expect(!error.message.contains("secret"))
        #expect(!error.description.contains("secret"))
    }
}
