import CircleHTTP
import Testing

private let upgrade = """
    GET /ws?room=r%201&token=a+b HTTP/1.1\r
    Host: circle.example\r
    Upgrade: websocket\r
    Connection: keep-alive, Upgrade\r
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
    Sec-WebSocket-Version: 13\r
    X-Multi: one\r
    x-multi: two\r
    \r\n
    """

@Suite struct HTTPHeadParserTests {
    @Test func parsesAnUpgradeRequest() throws {
        let outcome = parseRequest(upgrade)
        let h = try #require(head(outcome))
        #expect(outcome == .complete(h, consumed: upgrade.utf8.count))
        #expect(h.method == "GET")
        #expect(h.target == "/ws?room=r%201&token=a+b")
        #expect(h.path == "/ws")
        #expect(h.query == "room=r%201&token=a+b")
        #expect(h.versionMinor == 1)
        #expect(h.headers.count == 7)
        #expect(h.headers[0] == HTTPHeader(name: "Host", value: "circle.example"))
    }

    @Test func headerLookupIsCaseInsensitive() throws {
        let h = try #require(head(parseRequest(upgrade)))
        #expect(h.header("HOST") == "circle.example")
        #expect(h.header("x-MULTI") == "one")
        #expect(h.headerValues("X-Multi") == ["one", "two"])
        #expect(h.header("Missing") == nil)
        #expect(h.headerHasToken("connection", "UPGRADE"))
        #expect(h.headerHasToken("Connection", "keep-alive"))
        #expect(!h.headerHasToken("Connection", "close"))
        #expect(!h.headerHasToken("Connection", "upgrad"))
    }

    @Test func queryItemsArePercentDecoded() {
        let h = HTTPRequestHead(method: "GET", target: "/p?a=1&b=x%2By+z&c&e=%E2%82%AC&bad=%4&bad2=%zz&a=2&n%61me=v")
        #expect(h.queryItem("a") == "1")
        #expect(h.queryItem("b") == "x+y z")
        #expect(h.queryItem("c") == "")
        #expect(h.queryItem("e") == "€")
        #expect(h.queryItem("name") == "v")
        #expect(h.queryItem("missing") == nil)
        #expect(h.queryItem("bad") == nil)
        #expect(h.queryItem("bad2") == nil)
        #expect(HTTPRequestHead(method: "GET", target: "/p?x=%FF").queryItem("x") == nil)  // not UTF-8
        #expect(HTTPRequestHead(method: "GET", target: "/p").queryItem("a") == nil)
        #expect(HTTPRequestHead(method: "GET", target: "/p").query == nil)
        #expect(HTTPRequestHead(method: "GET", target: "/p?").query == "")
    }

    @Test func consumedStopsAtTheEndOfTheHead() {
        let frame: [UInt8] = [0x81, 0x85, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        let outcome = parseRequest(utf8(upgrade) + frame)
        #expect(outcome == .complete(head(outcome)!, consumed: upgrade.utf8.count))
    }

    @Test func everySplitParsesTheSame() {
        let bytes = utf8(upgrade) + [0x81, 0x00]
        let whole = parseRequest(bytes)
        #expect(head(whole) != nil)
        for chunks in splits(of: bytes) {
            #expect(parseRequest(chunks) == whole)
        }
    }

    @Test func everySplitOfABadRequestFailsTheSame() {
        let limits = HTTPLimits(maxHeadBytes: 80, maxHeaderCount: 3, maxLineBytes: 30)
        let bad = [
            "GET / HTTP/1.1\r\nHost: a\r\nX: \u{1}\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX: \(String(repeating: "v", count: 40))\r\n\r\n",
            "GET /\(String(repeating: "p", count: 40)) HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
            "GET / HTTP/1.1\r\nAaaaaaaaaa: 1\r\nBbbbbbbbbb: 2\r\nCcccccccccc: 3\r\n\r\n",
            "GET / HTTP/1.1\nHost: a\r\n\r\n",
        ]
        for text in bad {
            let whole = parseRequest(text, limits: limits)
            #expect(status(whole) != nil, "\(text.debugDescription)")
            for chunks in splits(of: utf8(text)) {
                #expect(parseRequest(chunks, limits: limits) == whole)
            }
        }
    }

    @Test func http10ParsesWithoutHost() throws {
        let h = try #require(head(parseRequest("GET /health HTTP/1.0\r\n\r\n")))
        #expect(h.versionMinor == 0)
        #expect(h.headers.isEmpty)
    }

    @Test func leadingEmptyLinesAreSkipped() throws {
        let h = try #require(head(parseRequest("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")))
        #expect(h.path == "/")
    }

    @Test func valuesAreTrimmedAndMayBeEmptyOrHoldObsText() throws {
        let h = try #require(head(parseRequest("GET / HTTP/1.1\r\nHost: a\r\nX-A: \t v 1 \t\r\nX-B:\r\nX-C: caf\u{E9}\r\n\r\n")))
        #expect(h.header("X-A") == "v 1")
        #expect(h.header("X-B") == "")
        #expect(h.header("X-C") == "café")
    }

    @Test func parserIsReadyForTheNextHeadAfterComplete() {
        var parser = HTTPHeadParser()
        let one = utf8("GET /a HTTP/1.1\r\nHost: a\r\n\r\n")
        let two = utf8("GET /b HTTP/1.1\r\nHost: a\r\n\r\n")
        guard case .complete(let h1, let c1) = parser.feed(one + two) else { Issue.record("first"); return }
        #expect(h1.path == "/a" && c1 == one.count)
        guard case .complete(let h2, _) = parser.feed(Array((one + two)[c1...])) else { Issue.record("second"); return }
        #expect(h2.path == "/b")
    }

    @Test func failureIsSticky() {
        var parser = HTTPHeadParser()
        let first = parser.feed(utf8("GET / HTTP/2.0\r\n"))
        #expect(first == .failure(HTTPError(status: 505)))
        #expect(parser.feed(utf8("GET / HTTP/1.1\r\nHost: a\r\n\r\n")) == first)
    }

    @Test func incompleteHeadNeedsMore() {
        #expect(parseRequest("GET / HTTP/1.1\r\nHost: a\r\n") == .needMore)
        #expect(parseRequest("") == .needMore)
    }
}

@Suite struct HTTPHeadParserErrorTests {
    @Test func http2IsVersionNotSupported() { #expect(status(parseRequest("GET / HTTP/2.0\r\nHost: a\r\n\r\n")) == 505) }
    @Test func http0IsVersionNotSupported() { #expect(status(parseRequest("GET / HTTP/0.9\r\nHost: a\r\n\r\n")) == 505) }
    @Test func malformedVersionIs400() {
        for v in ["HTTP/1.1x", "HTTP/1", "http/1.1", "HTTP/1.a", "HTTP/11.1", "HTTP/1.1 "] {
            #expect(status(parseRequest("GET / \(v)\r\nHost: a\r\n\r\n")) == 400, "\(v)")
        }
    }
    @Test func bareLFInRequestLineIs400() { #expect(status(parseRequest("GET / HTTP/1.1\nHost: a\r\n\r\n")) == 400) }
    @Test func bareLFInHeaderIs400() { #expect(status(parseRequest("GET / HTTP/1.1\r\nHost: a\n\r\n")) == 400) }
    @Test func bareLFEndingTheHeadIs400() { #expect(status(parseRequest("GET / HTTP/1.1\r\nHost: a\r\n\n")) == 400) }
    @Test func bareCRInsideALineIs400() { #expect(status(parseRequest("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n")) == 400) }
    @Test func obsFoldIs400() { #expect(status(parseRequest("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n")) == 400) }
    @Test func obsFoldWithTabIs400() { #expect(status(parseRequest("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n")) == 400) }
    @Test func spaceBeforeColonIs400() { #expect(status(parseRequest("GET / HTTP/1.1\r\nHost : a\r\n\r\n")) == 400) }
    @Test func tabBeforeColonIs400() { #expect(status(parseRequest("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n")) == 400) }
    @Test func headerWithoutColonIs400() { #expect(status(parseRequest("GET / HTTP/1.1\r\nHost a\r\n\r\n")) == 400) }
    @Test func emptyHeaderNameIs400() { #expect(status(parseRequest("GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n")) == 400) }
    @Test func nonTokenHeaderNameIs400() { #expect(status(parseRequest("GET / HTTP/1.1\r\nHo(st: a\r\n\r\n")) == 400) }
    @Test func controlCharacterInValueIs400() {
        for c: UInt8 in [0x00, 0x01, 0x0B, 0x1F, 0x7F] {
            let bytes = utf8("GET / HTTP/1.1\r\nHost: a\r\nX: a") + [c] + utf8("b\r\n\r\n")
            #expect(status(parseRequest(bytes)) == 400, "\(c)")
        }
    }
    @Test func nonTokenMethodIs400() { #expect(status(parseRequest("G(T / HTTP/1.1\r\nHost: a\r\n\r\n")) == 400) }
    @Test func emptyMethodIs400() { #expect(status(parseRequest(" / HTTP/1.1\r\nHost: a\r\n\r\n")) == 400) }
    @Test func missingTargetIs400() { #expect(status(parseRequest("GET  HTTP/1.1\r\nHost: a\r\n\r\n")) == 400) }
    @Test func twoSpacesAfterTargetIs400() { #expect(status(parseRequest("GET /  HTTP/1.1\r\nHost: a\r\n\r\n")) == 400) }
    @Test func requestLineWithoutVersionIs400() { #expect(status(parseRequest("GET /\r\nHost: a\r\n\r\n")) == 400) }
    @Test func absoluteFormIsItsOriginForm() {
        #expect(head(parseRequest("GET http://a/rooms/x?since=3 HTTP/1.1\r\nHost: a\r\n\r\n"))?.target == "/rooms/x?since=3")
        #expect(head(parseRequest("GET HTTPS://a:443 HTTP/1.1\r\nHost: a\r\n\r\n"))?.target == "/")
        #expect(head(parseRequest("GET http://a?q=1 HTTP/1.1\r\nHost: a\r\n\r\n"))?.target == "/?q=1")
        #expect(status(parseRequest("GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n")) == 400)
        #expect(status(parseRequest("GET ftp://a/x HTTP/1.1\r\nHost: a\r\n\r\n")) == 400)
        #expect(status(parseRequest("GET x HTTP/1.1\r\nHost: a\r\n\r\n")) == 400)
    }
    @Test func conflictingFramingIs400() {
        let base = "GET / HTTP/1.1\r\nHost: a\r\n"
        #expect(status(parseRequest(base + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n")) == 400)
        #expect(status(parseRequest(base + "Content-Length: 5, 6\r\n\r\n")) == 400)
        #expect(status(parseRequest(base + "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n")) == 400)
        #expect(status(parseRequest(base + "Content-Length: -1\r\n\r\n")) == 400)
        #expect(status(parseRequest(base + "Content-Length: 1e3\r\n\r\n")) == 400)
        #expect(status(parseRequest(base + "Content-Length: 99999999999999999999\r\n\r\n")) == 400)
        #expect(head(parseRequest(base + "Content-Length: 5\r\ncontent-length: 5, 5\r\n\r\n")) != nil)
        #expect(head(parseRequest(base + "Content-Length: 0\r\n\r\n")) != nil)
    }
    @Test func asteriskFormIs400() { #expect(status(parseRequest("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")) == 400) }
    @Test func nonASCIITargetIs400() {
        #expect(status(parseRequest(utf8("GET /\u{E9} HTTP/1.1\r\nHost: a\r\n\r\n"))) == 400)
        #expect(status(parseRequest(utf8("GET /a") + [0x7F] + utf8(" HTTP/1.1\r\nHost: a\r\n\r\n"))) == 400)
    }
    @Test func missingHostIn11Is400() { #expect(status(parseRequest("GET / HTTP/1.1\r\nX: a\r\n\r\n")) == 400) }
    @Test func duplicateHostIs400() { #expect(status(parseRequest("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n")) == 400) }

    @Test func requestLineTooLongIs414() {
        let limits = HTTPLimits(maxLineBytes: 20)
        #expect(head(parseRequest("GET /012345 HTTP/1.1\r\nHost: a\r\n\r\n", limits: limits)) != nil)  // 20 bytes
        #expect(status(parseRequest("GET /0123456 HTTP/1.1\r\nHost: a\r\n\r\n", limits: limits)) == 414)
    }

    @Test func headerLineTooLongIs431() {
        let limits = HTTPLimits(maxLineBytes: 20)
        #expect(head(parseRequest("GET / HTTP/1.1\r\nHost: a\r\nX: 0123456789abcdefg\r\n\r\n", limits: limits)) != nil)
        #expect(status(parseRequest("GET / HTTP/1.1\r\nHost: a\r\nX: 0123456789abcdefgh\r\n\r\n", limits: limits)) == 431)
    }

    @Test func endlessLineFailsAsSoonAsItCrossesTheCap() {
        var parser = HTTPHeadParser(limits: HTTPLimits(maxLineBytes: 100))
        #expect(parser.feed(utf8("GET / HTTP/1.1\r\nX: ")) == .needMore)
        // The cap is positional: a line may take maxLineBytes + 2 bytes (its CRLF included) before it fails.
        #expect(parser.feed([UInt8](repeating: 0x61, count: 99)) == .needMore)  // 102 bytes
        #expect(parser.feed([0x61]) == .failure(HTTPError(status: 431, reason: "Header line too long")))
    }

    @Test func headTooLargeIs431() {
        let limits = HTTPLimits(maxHeadBytes: 40)
        let fits = "GET / HTTP/1.1\r\nHost: a\r\nX: 01234567\r\n\r\n"  // 40 bytes
        #expect(fits.utf8.count == 40)
        #expect(head(parseRequest(fits, limits: limits)) != nil)
        #expect(status(parseRequest("GET / HTTP/1.1\r\nHost: a\r\nX: 012345678\r\n\r\n", limits: limits)) == 431)
    }

    @Test func headTooLargeCountsLeadingEmptyLines() {
        let limits = HTTPLimits(maxHeadBytes: 30)
        #expect(status(parseRequest(String(repeating: "\r\n", count: 16), limits: limits)) == 431)
    }

    @Test func tooManyHeadersIs431() {
        let limits = HTTPLimits(maxHeaderCount: 3)
        #expect(head(parseRequest("GET / HTTP/1.1\r\nHost: a\r\nB: 1\r\nC: 2\r\n\r\n", limits: limits)) != nil)
        #expect(status(parseRequest("GET / HTTP/1.1\r\nHost: a\r\nB: 1\r\nC: 2\r\nD: 3\r\n\r\n", limits: limits)) == 431)
    }
}
