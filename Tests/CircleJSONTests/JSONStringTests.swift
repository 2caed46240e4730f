import CircleJSON
import Testing

@Suite("JSON strings")
struct JSONStringTests {
    // MARK: escapes

    @Test func decodesEveryShortEscape() throws {
        #expect(try JSON.parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{08}\u{0C}\n\r\t"))
    }

    @Test func decodesUnicodeEscapesInBothCases() throws {
        #expect(try JSON.parse(#""\u0041\u00e9\u00E9\u20AC\u0000""#) == .string("Aéé€\u{0}"))
    }

    @Test func decodesSurrogatePairs() throws {
        #expect(try JSON.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try JSON.parse(#""\uDBFF\uDFFF""#) == .string("\u{10FFFF}"))
    }

    @Test func keepsTextAroundEscapes() throws {
        #expect(try JSON.parse(#""héllo \"wörld\" 😀!""#) == .string("héllo \"wörld\" 😀!"))
    }

    @Test(arguments: [#""\x""#, #""\'""#, #""\a""#, #""\U0041""#, #""\""#, #""\"#, #""\0""#])
    func rejectsInvalidEscapes(_ text: String) {
        #expect(parseError(text) != nil)
    }

    @Test(arguments: [#""\u12""#, #""\u12G4""#, #""\u""#, #""\u 123""#, #""\u-123""#, #""\u12"#])
    func rejectsShortOrNonHexUnicodeEscapes(_ text: String) {
        #expect(parseError(text) != nil)
    }

    @Test(arguments: [
        #""\ud800""#, #""\udc00""#, #""\udfff""#, #""\ud800\u0041""#, #""\ud800x""#, #""\ud800\ud800""#,
        #""\ude00\ud83d""#, #""\ud800\""#, #""a\udbffb""#,
    ])
    func rejectsLoneSurrogateEscapes(_ text: String) {
        #expect(parseError(text)?.message == "unpaired surrogate escape")
    }

    // MARK: control characters

    @Test func acceptsEscapedControlCharactersAndRawDelete() throws {
        #expect(try JSON.parse(#""\u0001\u001f""#) == .string("\u{01}\u{1F}"))
        #expect(try JSON.parse(quoted([0x7F])) == .string("\u{7F}"))
    }

    @Test(arguments: [0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1F] as [UInt8])
    func rejectsRawControlCharacters(_ control: UInt8) {
        #expect(parseError(quoted([0x61, control, 0x62])) == JSONError(offset: 2, message: "control character in string"))
    }

    @Test func rejectsRawControlCharactersAfterAnEscape() {
        #expect(parseError(quoted(Array(#"\n"#.utf8) + [0x0A]))?.message == "control character in string")
    }

    // MARK: UTF-8

    @Test func acceptsValidMultibyteUTF8AtTheBoundaries() throws {
        let samples: [(bytes: [UInt8], string: String)] = [
            ([0xC2, 0x80], "\u{80}"), ([0xDF, 0xBF], "\u{7FF}"), ([0xE0, 0xA0, 0x80], "\u{800}"),
            ([0xED, 0x9F, 0xBF], "\u{D7FF}"), ([0xEE, 0x80, 0x80], "\u{E000}"), ([0xEF, 0xBF, 0xBF], "\u{FFFF}"),
            ([0xF0, 0x90, 0x80, 0x80], "\u{10000}"), ([0xF4, 0x8F, 0xBF, 0xBF], "\u{10FFFF}"),
        ]
        for sample in samples {
            #expect(try JSON.parse(quoted(sample.bytes)) == .string(sample.string))
            // and after an escape, through the slow path
            #expect(try JSON.parse(quoted(Array(#"\t"#.utf8) + sample.bytes)) == .string("\t" + sample.string))
        }
    }

    @Test(arguments: [
        [0x80], [0xBF], [0xC0, 0xAF], [0xC1, 0xBF], [0xC3, 0x28], [0xC3], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF],
        [0xE2, 0x82], [0xE2, 0x28, 0xA1], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xF0, 0x80, 0x80, 0x80],
        [0xF0, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xF0, 0x90, 0x80],
        [0xF8, 0x88, 0x80, 0x80, 0x80], [0xFE], [0xFF],
    ] as [[UInt8]])
    func rejectsInvalidUTF8(_ bad: [UInt8]) {
        #expect(parseError(quoted([0x61] + bad + [0x62])) == JSONError(offset: 2, message: "invalid UTF-8"))
        #expect(parseError(quoted(Array(#"\n"#.utf8) + bad))?.message == "invalid UTF-8")
    }

    @Test func rejectsNonASCIIOutsideStrings() {
        #expect(parseError([0xC3, 0xA9]) != nil)
        #expect(parseError(Array("[1,é]".utf8)) != nil)
    }

    @Test func rejectsInvalidUTF8InKeys() {
        #expect(parseError([0x7B] + quoted([0xFF]) + Array(":1}".utf8))?.message == "invalid UTF-8")
    }

    // MARK: word-at-a-time scanning: every special byte at every offset around the 8-byte words

    private static let offsets = Array(0..<26)

    @Test(arguments: offsets)
    func findsTheClosingQuoteAtAnyOffset(_ n: Int) throws {
        let body = String(repeating: "a", count: n)
        #expect(try JSON.parse("[\"\(body)\",1]") == [.string(body), 1])
        #expect(try JSON.parse("[\"\\t\(body)\",1]") == [.string("\t" + body), 1])
    }

    @Test(arguments: offsets)
    func findsAnEscapeAtAnyOffset(_ n: Int) throws {
        let head = String(repeating: "a", count: n), tail = String(repeating: "b", count: 25 - n)
        #expect(try JSON.parse("\"\(head)\\n\(tail)\"") == .string(head + "\n" + tail))
        #expect(try JSON.parse("\"\\t\(head)\\\"\(tail)\"") == .string("\t" + head + "\"" + tail))
    }

    @Test(arguments: offsets)
    func findsAControlCharacterAtAnyOffset(_ n: Int) {
        let head = Array(repeating: UInt8(ascii: "a"), count: n), tail = Array(repeating: UInt8(ascii: "b"), count: 12)
        #expect(parseError(quoted(head + [0x1F] + tail)) == JSONError(offset: 1 + n, message: "control character in string"))
        #expect(parseError(quoted(Array(#"\t"#.utf8) + head + [0x00] + tail))?.offset == 3 + n)
    }

    @Test(arguments: offsets)
    func validatesUTF8AtAnyOffset(_ n: Int) throws {
        let head = String(repeating: "a", count: n)
        #expect(try JSON.parse("\"\(head)é€😀\(head)\"") == .string(head + "é€😀" + head))
        #expect(try JSON.parse("\"\\t\(head)é€😀\(head)\"") == .string("\t" + head + "é€😀" + head))
        let bad = Array(head.utf8) + [0xED, 0xA0, 0x80] + Array(head.utf8)
        #expect(parseError(quoted(bad)) == JSONError(offset: 1 + n, message: "invalid UTF-8"))
        #expect(parseError(quoted(Array(#"\t"#.utf8) + bad))?.offset == 3 + n)
    }

    @Test(arguments: offsets)
    func escapesASpecialCharacterAtAnyOffset(_ n: Int) throws {
        for special in ["\"", "\\", "\n", "\u{1F}", "\u{00}", "é"] {
            let value = String(repeating: "a", count: n) + special + String(repeating: "b", count: 25 - n)
            #expect(try JSON.parse(JSON.string(value).serialized()) == .string(value))
        }
        let plain = String(repeating: "x", count: n)
        #expect(text(.string(plain)) == "\"\(plain)\"")
    }

    // MARK: termination

    @Test(arguments: [#"""#, #""abc"#, #""abc\"#, #""abc\""#, #"["a]"#, #"{"a:1}"#, #""\u00e9"#])
    func rejectsUnterminatedStrings(_ text: String) {
        #expect(parseError(text) != nil)
    }
}
