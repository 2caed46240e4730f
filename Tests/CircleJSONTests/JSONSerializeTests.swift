import CircleJSON
import CircleTestSupport
import Testing

@Suite("JSON serialization")
struct JSONSerializeTests {
    @Test func writesCompactTextInInsertionOrder() {
        let value: JSON = ["z": [1, "two", true, false, nil], "a": ["nested": .object([:])], "e": []]
        #expect(text(value) == #"{"z":[1,"two",true,false,null],"a":{"nested":{}},"e":[]}"#)
    }

    @Test(arguments: [
        ("\"", #""\"""#), ("\\", #""\\""#), ("\n", #""\n""#), ("\r", #""\r""#), ("\t", #""\t""#),
        ("\u{08}", #""\b""#), ("\u{0C}", #""\f""#), ("\u{00}", #""\u0000""#), ("\u{01}", #""\u0001""#),
        ("\u{1F}", #""\u001f""#), ("\u{1B}", #""\u001b""#),
    ])
    func escapesQuotesBackslashesAndControlCharacters(_ raw: String, _ escaped: String) {
        #expect(text(.string(raw)) == escaped)
    }

    @Test func leavesEverythingElseAsUTF8() {
        #expect(text("a/b é € 😀 \u{7F} \u{2028}") == "\"a/b é € 😀 \u{7F} \u{2028}\"")
    }

    @Test func escapesRunsAroundPlainText() {
        #expect(text("say \"hi\"\n\tto\\all") == #""say \"hi\"\n\tto\\all""#)
    }

    @Test func jsonEscapeAppendsToExistingBytes() {
        var out = Array("x=".utf8)
        jsonEscape("a\"b", into: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"x="a\"b""#)
    }

    @Test func escapesKeys() {
        #expect(text(["k\"\n": 1]) == #"{"k\"\n":1}"#)
    }

    @Test(arguments: [
        (3.0, "3"), (-42.0, "-42"), (0.0, "0"), (-0.0, "0"), (1e15, "1000000000000000"),
        (9_007_199_254_740_992, "9007199254740992"), (-9_007_199_254_740_992, "-9007199254740992"),
        (9_007_199_254_740_994, "9.007199254740994e+15"), (3.5, "3.5"), (-0.25, "-0.25"), (0.1, "0.1"),
        (1e300, "1e+300"), (1e-7, "1e-07"), (.leastNonzeroMagnitude, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
        (.nan, "null"), (.infinity, "null"), (-.infinity, "null"),
    ] as [(Double, String)])
    func formatsNumbers(_ d: Double, _ expected: String) {
        #expect(text(.number(d)) == expected)
    }

    @Test func serializedTextParsesBackToTheSameValue() throws {
        let value: JSON = [
            "s": "quote\" backslash\\ ctrl\u{01} nl\n uni é😀", "n": [0, -1, 0.5, 1e-300, 123456789.125, 1e21],
            "o": ["deep": [["x": nil]]], "b": [true, false], "empty": "",
        ]
        #expect(try JSON.parse(value.serialized()) == value)
    }

    @Test func compactTextRoundTripsByteForByte() throws {
        let original = #"{"type":"signal","to":"p-1","payload":{"sdp":"v=0\r\n","n":[1,2.5,-3e-05]},"ok":true}"#
        #expect(text(try JSON.parse(original)) == original)
    }

    @Test func everyFiniteDoubleRoundTripsExactly() throws {
        var generator = SplitMix64(seed: 0x5EED)
        for _ in 0..<5_000 {
            let d = Double(bitPattern: generator.next())
            guard d.isFinite else { continue }
            let parsed = try #require(try JSON.parse(JSON.number(d).serialized()).doubleValue)
            #expect(parsed == d, "bit pattern \(d.bitPattern)")
        }
    }

    @Test func descriptionIsTheCompactText() {
        let value: JSON = ["a": [1, "b"]]
        #expect(value.description == #"{"a":[1,"b"]}"#)
    }
}

