@testable import CircleHTTP
import CircleTestSupport
import Testing

/// The query scan and the header list scan answer exactly as the general code (a character split, list elements),
/// hostile input included.
@Suite struct QueryAndHeaderListTests {
    // MARK: queryItem

    private static let queryAlphabet: [Character] = ["a", "b", "=", "&", "%", "+", "2", "0", "4", "1", "C", "3", "A",
                                                     "9", "g", "_", "é", "\u{301}", "K", "\u{212A}", "~", "\r", "\n"]

    private static func randomQuery(_ rng: inout SplitMix64, asciiOnly: Bool) -> String {
        let alphabet = asciiOnly ? queryAlphabet.filter(\.isASCII) : queryAlphabet
        let length = Int(rng.next() % 24)
        return String((0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
    }

    @Test func queryScanMatchesTheCharacterSplit() {
        var rng = SplitMix64(seed: 42)
        let names = ["a", "b", "ab", "a b", "", "%", "é", "K", "\u{212A}", "a\u{301}", "access_token", "since"]
        for round in 0..<20_000 {
            let query = Self.randomQuery(&rng, asciiOnly: round % 2 == 0)
            let head = HTTPRequestHead(method: "GET", target: "/p?" + query)
            for name in names {
                // (`head.query`, not `query`: a leading combining mark joins the `?` and goes with it.)
                #expect(head.queryItem(name) == HTTPRequestHead.queryItemByCharacters(name, in: head.query ?? ""),
                        "query \(Array(query.utf8)) name \(name)")
            }
        }
    }

    @Test func queryItemHostileAndOrdinaryCases() {
        func item(_ query: String, _ name: String) -> String? {
            HTTPRequestHead(method: "GET", target: "/rooms/r?" + query).queryItem(name)
        }
        #expect(item("access_token=abc.def-_&since=4", "access_token") == "abc.def-_")
        #expect(item("access_token=abc&since=4", "since") == "4")
        #expect(item("since", "since") == "")
        #expect(item("since=", "since") == "")
        #expect(item("&&since=1&&", "since") == "1")
        #expect(item("since=1&since=2", "since") == "1")
        #expect(item("a=%41%42+c", "a") == "AB c")
        #expect(item("%61=x", "a") == "x")  // the name is decoded before comparing
        #expect(item("a+b=x", "a b") == "x")
        #expect(item("a=%", "a") == nil)
        #expect(item("a=%4", "a") == nil)
        #expect(item("a=%G1", "a") == nil)
        #expect(item("a=%C3", "a") == nil)  // invalid UTF-8 after decoding
        #expect(item("a=%C3%A9", "a") == "é")
        #expect(item("%=1&a=2", "a") == "2")  // a name with a bad escape never matches
        #expect(item("b=1", "a") == nil)
        #expect(HTTPRequestHead(method: "GET", target: "/rooms/r").queryItem("a") == nil)
        #expect(item("K=1", "\u{212A}") == "1")  // canonical equivalence, as String comparison has it
        #expect(item("%E2%84%AA=1", "K") == "1")
    }

    // MARK: header lists

    @Test func asciiListScanMatchesListElements() {
        var rng = SplitMix64(seed: 7)
        let alphabet: [Character] = ["u", "p", "U", ",", " ", "\t", "x", "é", "\u{301}"]
        let tokens = ["up", "UP", "u", "", "p,u", "upx", "é", "up\u{301}"]
        for round in 0..<20_000 {
            let chars = round % 2 == 0 ? alphabet.filter(\.isASCII) : alphabet
            let value = String((0..<Int(rng.next() % 12)).map { _ in chars[Int(rng.next() % UInt64(chars.count))] })
            let field = HTTPHeader(name: "Connection", value: value)
            let head = HTTPRequestHead(method: "GET", target: "/", headers: [field])
            for token in tokens {
                let general = HTTPSyntax.listElements(value).contains { HTTPSyntax.equalsIgnoringCase($0, token) }
                #expect(head.headerHasToken("connection", token) == general,
                        "value \(Array(value.utf8)) token \(token)")
                if let fast = HTTPSyntax.asciiListContains(value, token) { #expect(fast == general) }
            }
        }
    }

    @Test func headerNamesCompareIgnoringASCIICaseOnly() {
        #expect(HTTPHeader.nameEquals("sec-websocket-key", "Sec-WebSocket-Key"))
        #expect(!HTTPHeader.nameEquals("Sec-WebSocket-Ke", "Sec-WebSocket-Key"))
        #expect(!HTTPHeader.nameEquals("Sec-WebSocket-Kez", "Sec-WebSocket-Key"))
        #expect(!HTTPHeader.nameEquals("[", "{"))  // 0x5B vs 0x7B: not letters, so not folded
        #expect(!HTTPHeader.nameEquals("É", "é"))
        let head = HTTPRequestHead(method: "GET", target: "/", headers: [
            HTTPHeader(name: "Host", value: "a"), HTTPHeader(name: "HOST", value: "b"),
            HTTPHeader(name: "Hostx", value: "c"),
        ])
        #expect(head.headerCount("host") == 2)
        #expect(head.headerCount("Origin") == 0)
    }
}
