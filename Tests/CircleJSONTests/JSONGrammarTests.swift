import CircleJSON
import Testing

@Suite("JSON grammar")
struct JSONGrammarTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSON.parse(#"{"a":[1,-2.5,"x",true,false,null,{}],"b":{"c":[]}}"#)
        let expected: JSON = ["a": [1, -2.5, "x", true, false, nil, .object([:])], "b": ["c": []]]
        #expect(value == expected)
    }

    @Test(arguments: ["null", "true", "false", "0", "\"\"", "[]", "{}"])
    func acceptsScalarsAndEmptyContainersAtTopLevel(_ text: String) {
        #expect(parseError(text) == nil)
    }

    // MARK: trailing commas

    @Test func acceptsCommasBetweenElements() throws {
        #expect(try JSON.parse("[1,2]") == [1, 2])
        #expect(try JSON.parse(#"{"a":1,"b":2}"#) == ["a": 1, "b": 2])
    }

    @Test(arguments: ["[1,]", #"{"a":1,}"#, "[,1]", "{,}", "[1,,2]", "[,]", #"{"a":1,,"b":2}"#])
    func rejectsStrayCommas(_ text: String) {
        #expect(parseError(text) != nil)
    }

    // MARK: comments

    @Test func acceptsCommentMarkersInsideStrings() throws {
        #expect(try JSON.parse(##"["// no", "/* no */", "#"]"##) == ["// no", "/* no */", "#"])
    }

    @Test(arguments: ["// c\n1", "/* c */ 1", "[1 /* c */]", "1 // c", "# c\n1", "[1, // c\n2]"])
    func rejectsComments(_ text: String) {
        #expect(parseError(text) != nil)
    }

    // MARK: NaN and infinities

    @Test(arguments: ["NaN", "Infinity", "-Infinity", "[NaN]", "inf", "-inf", "nan"])
    func rejectsNonFiniteSpellings(_ text: String) {
        #expect(parseError(text) != nil)
    }

    // MARK: whitespace

    @Test func acceptsTheFourWhitespaceCharactersEverywhere() throws {
        let value = try JSON.parse(" \t\n\r{ \t\n\r\"a\" \t\n\r: \t\n\r[ 1 \t\n\r, 2 ] \t\n\r} \t\n\r")
        #expect(value == ["a": [1, 2]])
    }

    @Test(arguments: [
        [0x0C, 0x31], [0x0B, 0x31], [0x31, 0x0C], [0x5B, 0x0C, 0x5D], [0xC2, 0xA0, 0x31], [0xEF, 0xBB, 0xBF, 0x31],
        [0x00, 0x31], [0x31, 0x00],
    ] as [[UInt8]])
    func rejectsOtherWhitespaceAndBOM(_ bytes: [UInt8]) {
        #expect(parseError(bytes) != nil)
    }

    // MARK: nothing after the value

    @Test(arguments: ["1 2", "{} x", "nullx", "[1]]", "{}}", "\"a\"\"b\"", "true false", "[] []", "0 0"])
    func rejectsDataAfterTheValue(_ text: String) {
        #expect(parseError(text)?.message == "unexpected data after value")
    }

    // MARK: literals

    @Test(arguments: ["tru", "True", "nul", "NULL", "falsey", "fals", "t", "nulll"])
    func rejectsMisspelledLiterals(_ text: String) {
        #expect(parseError(text) != nil)
    }

    // MARK: structure

    @Test(arguments: [
        "", " ", "[", "{", "[1", #"{"a""#, #"{"a":"#, #"{"a":1"#, "]", "}", ":", #"{1:2}"#, "{'a':1}", "{a:1}",
        #"{"a" 1}"#, #"{"a"::1}"#, "[1 2]", #"{"a":1 "b":2}"#, "'a'", #"{"a"}"#,
    ])
    func rejectsBrokenStructure(_ text: String) {
        #expect(parseError(text) != nil)
    }

    @Test func reportsTheOffsetOfTheProblem() {
        #expect(parseError("[1, x]") == JSONError(offset: 4, message: "expected a value"))
        #expect(parseError("[1") == JSONError(offset: 2, message: "unexpected end of input"))
        #expect(parseError(#"{"a" 1}"#) == JSONError(offset: 5, message: "expected ':'"))
        #expect(parseError("{1:2}") == JSONError(offset: 1, message: "expected a string key"))
        #expect(parseError("[1 2]") == JSONError(offset: 3, message: "expected ',' or ']'"))
        #expect(parseError(#"{"a":1 "b":2}"#) == JSONError(offset: 7, message: "expected ',' or '}'"))
        #expect(parseError("") == JSONError(offset: 0, message: "unexpected end of input"))
    }

    // MARK: duplicate keys

    @Test func acceptsTheSameKeyInDifferentObjects() throws {
        let value = try JSON.parse(#"{"a":{"a":1},"b":[{"a":2},{"a":3}]}"#)
        #expect(value["a"]?["a"] == 1)
    }

    @Test func rejectsDuplicateKeysAtTheSecondKey() {
        #expect(parseError(#"{"a":1,"a":2}"#) == JSONError(offset: 7, message: "duplicate key"))
    }

    @Test func rejectsDuplicateKeysInNestedObjects() {
        #expect(parseError(#"[{"x":{"k":1,"k":1}}]"#)?.message == "duplicate key")
    }

    @Test func rejectsDuplicateKeysEvenWhenSpelledWithEscapes() {
        #expect(parseError(#"{"a":1,"\u0061":2}"#)?.message == "duplicate key")
    }

    @Test func rejectsDuplicateKeysInLargeObjects() {
        let members = (0..<100).map { #""k\#($0)":\#($0)"# }.joined(separator: ",")
        #expect(parseError("{\(members)}") == nil)
        #expect(parseError("{\(members),\"k57\":0}")?.message == "duplicate key")
    }

    // MARK: entry points

    @Test func allEntryPointsAgree() throws {
        let text = #"{"a":[1,"é",null]}"#
        let bytes = Array(text.utf8)
        let fromBuffer = try bytes.withUnsafeBytes { try JSON.parse($0) }
        #expect(try JSON.parse(text) == fromBuffer)
        #expect(try JSON.parse(bytes) == fromBuffer)
    }

    @Test func parsesFromASubstringBackedString() throws {
        let big = "xx[1,2]xx"
        let inner = String(big.dropFirst(2).dropLast(2))
        #expect(try JSON.parse(inner) == [1, 2])
    }
}
