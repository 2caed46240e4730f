@testable import CircleJSON
import CircleJSONTestSupport
import CircleTestSupport
import Testing

/// The validating skip mode (`JSON.scanTopObject`) must accept and reject exactly what the tree parser does, with
/// the same error (message and offset). Any value reaches it as the member of a wrapping object.
@Suite("JSON validation without a tree")
struct JSONValidateTests {
    /// The tree parser's verdict on `bytes`.
    private func treeVerdict(_ bytes: [UInt8], _ limits: JSONLimits) -> JSONError? {
        do {
            _ = try JSON.parse(bytes, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    /// The skip mode's verdict on an object text.
    private func skipVerdict(_ bytes: [UInt8], _ limits: JSONLimits) -> JSONError? {
        let scan = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONError) in try JSON.scanTopObject(raw, limits: limits) { _ in } }
        }
        if case .failure(let error) = scan { return error }
        return nil
    }

    /// `text` as the one member's value of an object, and the limits one level deeper to match.
    private func wrapped(_ text: [UInt8], _ limits: JSONLimits) -> ([UInt8], JSONLimits) {
        let depth = limits.maxDepth == .max ? .max : limits.maxDepth + 1
        let deeper = JSONLimits(maxDepth: depth, maxStringBytes: limits.maxStringBytes, maxMembers: limits.maxMembers)
        return (Array(#"{"":"#.utf8) + text + [0x7D], deeper)
    }

    /// The tree parser's and the skip mode's verdicts on `text` wrapped as a member.
    private func verdicts(_ text: [UInt8], _ limits: JSONLimits) -> (tree: JSONError?, skip: JSONError?) {
        let (object, deeper) = wrapped(text, limits)
        return (treeVerdict(object, deeper), skipVerdict(object, deeper))
    }

    /// parseTopObject's verdict and captured ranges against scanTopObject's.
    private func expectSameTopObject(
        _ bytes: [UInt8], _ limits: JSONLimits, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let tree: Result<JSONObjectCapture, JSONError> = Result { () throws(JSONError) in
            try JSON.parseTopObject(bytes, rawMembers: ["a", "payload", "é"], limits: limits)
        }
        var members: [JSONMemberSpan] = []
        let scan: Result<Void, JSONError> = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONError) in try JSON.scanTopObject(raw, limits: limits) { members.append($0) } }
        }
        switch (tree, scan) {
        case (.failure(let a), .failure(let b)):
            #expect(a == b, "input \(Array(bytes))", sourceLocation: sourceLocation)
        case (.success(let capture), .success):
            let keys = bytes.withUnsafeBytes { raw in members.map { $0.key.stringValue(in: raw) ?? "?" } }
            #expect(keys == capture.object.keys, sourceLocation: sourceLocation)
            for (j, name) in ["a", "payload", "é"].enumerated() {
                let range = bytes.withUnsafeBytes { raw in
                    members.first { $0.key.stringValue(in: raw) == name }?.value.range
                }
                #expect(range == capture.rawRanges[j], sourceLocation: sourceLocation)
            }
            for member in members {
                let value = bytes.withUnsafeBytes { raw in member.value.json(in: raw) }
                let key = bytes.withUnsafeBytes { raw in member.key.stringValue(in: raw)! }
                #expect(value == capture.object[key], sourceLocation: sourceLocation)
            }
        default:
            Issue.record("tree \(tree) vs scan \(scan) for \(Array(bytes))", sourceLocation: sourceLocation)
        }
    }

    private func expectSame(
        _ text: [UInt8], _ limits: JSONLimits = .init(), sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let (tree, skip) = verdicts(text, limits)
        #expect(tree == skip, "input \(text)", sourceLocation: sourceLocation)
        expectSameTopObject(text, limits, sourceLocation: sourceLocation)
    }

    static let hostile: [String] = [
        "", " ", "{", "}", "[", "]", "{}", "[]", " {} ", "{} x", "[1,]", "[,1]", "{,}", #"{"a":1,}"#, #"{"a" 1}"#,
        #"{"a":}"#, #"{"a"}"#, #"{a:1}"#, #"{'a':1}"#, "[1 2]", "[1,,2]", "nul", "nulll", "tru", "True", "falsey",
        "NaN", "Infinity", "-Infinity", "+1", "01", "-01", "1.", ".5", "1e", "1e+", "-", "--1", "1.5e308", "1e309",
        "-1e309", "123456789012345678901234567890", "0.0000000000000000000001", "1E-400", "-0", "0e0",
        #""abc"#, #""a\"#, #""\x""#, #""\u12""#, #""\u12G4""#, #""\uD800""#, #""\uDC00""#, #""\uD800\u0041""#,
        #""\uD83D\uDE00""#, #""\ud83d\ude00x""#, #""\/\b\f\n\r\t\\\"""#, "\"\u{7F}\"", "\"a\tb\"", "\"a\nb\"",
        #"{"a":1,"a":2}"#, #"{"a":1,"\u0061":2}"#, #"{"K":1,"\u212A":2}"#, "{\"K\":1,\"\u{212A}\":2}",
        "{\"é\":1,\"e\u{301}\":2}", #"{"a":{"b":1,"b":2}}"#, #"[{"x":1},{"x":1}]"#, #"{"a":[{"a":1,"a":1}]}"#,
        #"{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"a":10}"#,
        #"{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10}"#,
        #"{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"\u0061":9}"#,
        #"{"type":"signal","to_all":true,"payload":{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}}"#,
        #"{"payload":[1,2,{"x":null}],"a":"b"}"#, "\u{FEFF}{}", "{}\u{0}", "\t\n\r {} \t\n\r", "\u{0B}{}",
        #"{"a":1}/*c*/"#, #"{"a":"\u0000"}"#, "[\"\u{10FFFF}\"]", "[\"日本語\"]",
    ]

    @Test(arguments: hostile)
    func hostileTextsGetTheSameVerdict(_ text: String) {
        expectSame(Array(text.utf8))
        expectSame(Array(text.utf8), JSONLimits(maxDepth: 1, maxStringBytes: 3, maxMembers: 2))
    }

    @Test func invalidUTF8GetsTheSameVerdict() {
        let cases: [[UInt8]] = [
            [0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xE0, 0x80, 0xAF, 0x22],
            [0x22, 0xED, 0xA0, 0x80, 0x22],
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xC3, 0x22], [0x22, 0x5C, 0x6E, 0xC3, 0x22],
            [0x7B, 0x22, 0xC3, 0xA9, 0x22, 0x3A, 0x31, 0x7D], [0x7B, 0x22, 0xC3, 0x22, 0x3A, 0x31, 0x7D],
            [0x22, 0xF0, 0x9F, 0x98, 0x22], [0x22, 0xF0, 0x9F, 0x98, 0x80, 0x22],
        ]
        for bytes in cases {
            expectSame(bytes)
            expectSame(bytes, JSONLimits(maxStringBytes: 2))
        }
    }

    @Test func limitsGetTheSameVerdict() {
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        let deepObject = String(repeating: #"{"a":"#, count: 40) + "1" + String(repeating: "}", count: 40)
        let wide = "[" + Array(repeating: "1", count: 20).joined(separator: ",") + "]"
        let wideObject = "{" + (0..<20).map { #""k\#($0)":\#($0)"# }.joined(separator: ",") + "}"
        let long = "\"" + String(repeating: "x", count: 40) + "\""
        let longEscaped = "\"" + String(repeating: #"\n"#, count: 20) + "x\""
        let longUnicode = "\"" + String(repeating: "é", count: 20) + "\""
        let longEscapedUnicode = "\"" + String(repeating: #"\u00e9"#, count: 20) + "\""
        for text in [deep, deepObject, wide, wideObject, long, longEscaped, longUnicode, longEscapedUnicode] {
            for limits in [
                JSONLimits(), JSONLimits(maxDepth: 0), JSONLimits(maxDepth: 5), JSONLimits(maxMembers: 10),
                JSONLimits(maxMembers: 20), JSONLimits(maxStringBytes: 19), JSONLimits(maxStringBytes: 20),
                JSONLimits(maxStringBytes: 39), JSONLimits(maxStringBytes: 40), JSONLimits(maxStringBytes: 41),
            ] {
                expectSame(Array(text.utf8), limits)
                expectSame(Array("{\"payload\":\(text)}".utf8), limits)
            }
        }
    }

    /// The word scan stops exactly at the first byte that needs escaping or is not ASCII (whole words), for every
    /// position and every kind of such byte, whatever follows it.
    @Test func wordScanFindsTheFirstAttentionByteExactly() {
        var rng = SplitMix64(seed: 7)
        let special: [UInt8] = [0x22, 0x5C, 0x00, 0x1F, 0x0A, 0x80, 0xC3, 0xFF, 0x7F, 0x20, 0x21, 0x5B, 0x5D]
        for _ in 0..<20_000 {
            var bytes = (0..<24).map { _ in UInt8(0x20 + rng.next() % 0x5F) }
            for _ in 0..<Int(rng.next() % 4) {
                bytes[Int(rng.next() % 24)] = special[Int(rng.next() % UInt64(special.count))]
            }
            let from = Int(rng.next() % 8)
            let found = bytes.withUnsafeBytes { ByteScan.skipPlainASCII($0, from: from, to: 24) }
            let expected = bytes[from...].firstIndex { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 >= 0x80 } ?? 24
            // Exact within whole words; in the last partial word, the scan stops at that word's start.
            let wholeWordsEnd = from + (24 - from) / 8 * 8
            #expect(found == (expected < wholeWordsEnd ? expected : wholeWordsEnd), "\(bytes) from \(from)")
        }
    }

    /// The skip mode leaves out the conversion of numbers that cannot overflow; the boundary must not move.
    @Test func bigNumbersGetTheSameVerdict() {
        for digits in [15, 16, 19, 299, 300, 301, 308, 309, 310, 400] {
            for text in [
                String(repeating: "9", count: digits), "-" + String(repeating: "9", count: digits),
                "1" + String(repeating: "0", count: digits - 1), String(repeating: "9", count: digits) + ".5",
                "0." + String(repeating: "9", count: digits), String(repeating: "9", count: digits) + "e0",
                "1e" + String(digits), "1e-" + String(digits), "0." + String(repeating: "0", count: digits) + "1e-400",
            ] {
                expectSame(Array(text.utf8))
                expectSame(Array("{\"payload\":[\(text)]}".utf8))
            }
        }
    }

    @Test func hostileDeepNestingFailsWithoutExhaustingTheStack() {
        let (object, limits) = wrapped(Array(String(repeating: "[", count: 1_000_000).utf8), .init())
        #expect(skipVerdict(object, limits)?.message == "nesting too deep")
    }

    @Test func scanReportsMemberSpans() throws {
        let text = Array(#" { "type" : "signal", "\u0069d":"c1", "payload" : {"sdp":"v=0\r\n"} } "#.utf8)
        var spans: [JSONMemberSpan] = []
        try text.withUnsafeBytes { raw in
            try JSON.scanTopObject(raw) { spans.append($0) }
            #expect(spans.count == 3)
            #expect(spans[0].key.isPlain && spans[0].key.equals("type", in: raw))
            #expect(spans[0].value.equals("signal", in: raw) && !spans[0].value.equals("signa", in: raw))
            #expect(!spans[1].key.isPlain && spans[1].key.equals("id", in: raw))
            #expect(spans[1].value.stringValue(in: raw) == "c1")
            #expect(Array(raw[spans[2].value.range]) == Array(#"{"sdp":"v=0\r\n"}"#.utf8))
            #expect(!spans[2].value.isPlain && spans[2].value.stringValue(in: raw) == nil)
        }
    }

    @Test func spanReadsScalars() throws {
        let text = Array(#"{"a":true,"b":false,"c":null,"d":3.0,"e":1e3,"f":3.5,"g":-0,"h":"x\u00e9"}"#.utf8)
        var spans: [JSONMemberSpan] = []
        try text.withUnsafeBytes { raw in
            try JSON.scanTopObject(raw) { spans.append($0) }
            #expect(spans[0].value.boolValue(in: raw) == true && spans[1].value.boolValue(in: raw) == false)
            #expect(spans[2].value.isNull(in: raw) && spans[2].value.boolValue(in: raw) == nil)
            #expect(spans[3].value.intValue(in: raw) == 3 && spans[4].value.intValue(in: raw) == 1000)
            #expect(spans[5].value.intValue(in: raw) == nil && spans[5].value.doubleValue(in: raw) == 3.5)
            #expect(spans[6].value.intValue(in: raw) == 0)
            #expect(spans[7].value.stringValue(in: raw) == "xé" && spans[7].value.intValue(in: raw) == nil)
        }
    }

    /// Random texts built from JSON's own tokens and hostile bytes, with a fixed seed: both modes must agree on each.
    @Test func randomTextsGetTheSameVerdict() {
        var rng = SplitMix64(seed: 0x5EED_C1C1E)
        let tokens: [[UInt8]] = [
            "{", "}", "[", "]", ",", ":", " ", "\n", "\"", "\"a\"", "\"b\"", "\"\\u0061\"", "\"K\"", "\"\u{212A}\"",
            "\"é\"", "\"e\u{301}\"", "1", "-", "0", "12", ".5", "e9", "1e400", "true", "false", "null", "nul", "\\",
            "\\n", "\\u00", "\\uD800", "\\uDC00", "x", "\t", "\"payload\"", "\"\\\"\"", "é", "\u{1F600}", "\u{7}",
        ].map { Array($0.utf8) } + [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0x80], [0x00]]
        let limitsChoices = [
            JSONLimits(), JSONLimits(maxDepth: 2, maxStringBytes: 4, maxMembers: 3), JSONLimits(maxDepth: 1),
            JSONLimits(maxStringBytes: 1, maxMembers: 1),
        ]
        var agreed = 0
        for _ in 0..<20_000 {
            var text: [UInt8] = rng.next() % 2 == 0 ? Array("{".utf8) : []
            let length = Int(rng.next() % 24)
            for _ in 0..<length { text += tokens[Int(rng.next() % UInt64(tokens.count))] }
            if rng.next() % 2 == 0 { text += Array("}".utf8) }
            let limits = limitsChoices[Int(rng.next() % UInt64(limitsChoices.count))]
            let (tree, skip) = verdicts(text, limits)
            #expect(tree == skip, "input \(text)")
            if tree == nil { agreed += 1 }
            expectSameTopObject(text, limits)
        }
        // Also valid documents: random well-formed values, some of them objects with duplicate keys.
        for _ in 0..<5_000 {
            var text: [UInt8] = []
            randomValue(&rng, depth: 0, into: &text)
            let limits = limitsChoices[Int(rng.next() % UInt64(limitsChoices.count))]
            let (tree, skip) = verdicts(text, limits)
            #expect(tree == skip, "input \(text)")
            if tree == nil { agreed += 1 }
            expectSameTopObject(text, limits)
        }
        #expect(agreed > 1_000)  // the generator does reach valid texts
    }

    private func randomValue(_ rng: inout SplitMix64, depth: Int, into text: inout [UInt8]) {
        let keys = [#""a""#, #""b""#, #""c""#, #""\u0062""#, #""payload""#, #""é""#, #""e\u0301""#, #""d""#,
                    #""\u00e9""#]
        switch rng.next() % (depth > 3 ? 4 : 6) {
        case 0:
            let scalars = ["1", "-2.5e3", "0", "true", "false", "null", "123456789012345678"]
            text += Array(scalars[Int(rng.next() % 7)].utf8)
        case 1:
            let strings = [#""""#, #""abc""#, #""a\nb\u00e9""#, #""\uD83D\uDE00""#, "\"日本\"", #""\\\/""#]
            text += Array(strings[Int(rng.next() % 6)].utf8)
        case 2: text += Array(#""xyz""#.utf8)
        case 3: text += Array("42".utf8)
        case 4:
            text += Array("[".utf8)
            for k in 0..<Int(rng.next() % 5) {
                if k > 0 { text += Array(",".utf8) }
                randomValue(&rng, depth: depth + 1, into: &text)
            }
            text += Array("]".utf8)
        default:
            text += Array("{".utf8)
            for k in 0..<Int(rng.next() % 12) {
                if k > 0 { text += Array(", ".utf8) }
                text += Array(keys[Int(rng.next() % UInt64(keys.count))].utf8) + Array(":".utf8)
                randomValue(&rng, depth: depth + 1, into: &text)
            }
            text += Array("}".utf8)
        }
    }
}

