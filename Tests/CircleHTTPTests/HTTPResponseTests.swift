import CircleHTTP
import Testing

@Suite struct HTTPResponseTests {
    @Test func makeWritesStatusHeadersLengthAndBody() {
        let bytes = HTTPResponse.make(status: 200, headers: [HTTPHeader(name: "Content-Type", value: "text/plain")], body: utf8("ok\n"))
        #expect(String(decoding: bytes, as: UTF8.self) == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n")
    }

    @Test func switchingProtocolsAndNoContentCarryNoLength() {
        #expect(String(decoding: HTTPResponse.make(status: 101), as: UTF8.self) == "HTTP/1.1 101 Switching Protocols\r\n\r\n")
        #expect(String(decoding: HTTPResponse.make(status: 204), as: UTF8.self) == "HTTP/1.1 204 No Content\r\n\r\n")
        #expect(String(decoding: HTTPResponse.make(status: 404), as: UTF8.self) == "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    }

    @Test func callerSuppliedLengthIsNotDuplicated() {
        let text = String(decoding: HTTPResponse.make(status: 200, headers: [HTTPHeader(name: "content-length", value: "0")]), as: UTF8.self)
        #expect(text == "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
    }

    @Test func headerValuesCannotInjectLines() {
        let text = String(decoding: HTTPResponse.make(status: 101, headers: [HTTPHeader(name: "X", value: "a\r\nSet-Cookie: b")]), as: UTF8.self)
        #expect(text == "HTTP/1.1 101 Switching Protocols\r\nX: a  Set-Cookie: b\r\n\r\n")
    }

    @Test func errorResponseClosesWithReasonBody() {
        let error = HTTPError(status: 426, reason: "Unsupported WebSocket version")
        let text = String(decoding: HTTPResponse.error(error, extraHeaders: [HTTPHeader(name: "Sec-WebSocket-Version", value: "13")]), as: UTF8.self)
        #expect(text == "HTTP/1.1 426 Upgrade Required\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
            + "Sec-WebSocket-Version: 13\r\nContent-Length: 30\r\n\r\nUnsupported WebSocket version\n")
    }

    @Test func reasonPhrases() {
        #expect(HTTPResponse.reasonPhrase(431) == "Request Header Fields Too Large")
        #expect(HTTPResponse.reasonPhrase(505) == "HTTP Version Not Supported")
        #expect(HTTPResponse.reasonPhrase(599) == "Unknown")
        #expect(HTTPError(status: 414).reason == "URI Too Long")
    }
}

@Suite struct HTTPResponseHeadParserTests {
    private let response = utf8("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")

    private func parse(_ chunks: [[UInt8]], limits: HTTPLimits = .init()) -> HTTPResponseParseResult {
        var parser = HTTPResponseHeadParser(limits: limits)
        var before = 0
        for chunk in chunks {
            switch parser.feed(chunk) {
            case .needMore: before += chunk.count
            case .complete(let h, let consumed): return .complete(h, consumed: before + consumed)
            case .failure(let e): return .failure(e)
            }
        }
        return .needMore
    }

    @Test func parsesAStatusLineAndHeaders() {
        let expected = HTTPResponseHead(status: 101, reason: "Switching Protocols", headers: [
            HTTPHeader(name: "Upgrade", value: "websocket"), HTTPHeader(name: "Connection", value: "Upgrade"),
        ])
        #expect(parse([response + [0x81, 0x00]]) == .complete(expected, consumed: response.count))
    }

    @Test func everySplitParsesTheSame() {
        let whole = parse([response])
        for chunks in splits(of: response) { #expect(parse(chunks) == whole) }
    }

    @Test func emptyReasonIsAccepted() {
        guard case .complete(let h, _) = parse([utf8("HTTP/1.1 204 \r\n\r\n")]) else { Issue.record(); return }
        #expect(h.status == 204 && h.reason == "")
        guard case .complete(let h2, _) = parse([utf8("HTTP/1.0 204\r\n\r\n")]) else { Issue.record(); return }
        #expect(h2.status == 204 && h2.versionMinor == 0)
    }

    @Test func malformedStatusLinesAre400() {
        for line in ["HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1  200 OK", "HTTP/1.1 abc OK", "HTTP/1.1 099 X", "HTTP/1.1", "HTTP/1.1 200\tOK", "ICY 200 OK"] {
            guard case .failure(let e) = parse([utf8(line + "\r\n\r\n")]) else { Issue.record("\(line)"); continue }
            #expect(e.status == 400, "\(line)")
        }
    }

    @Test func otherMajorVersionIs505() {
        #expect(parse([utf8("HTTP/2.0 200 OK\r\n\r\n")]) == .failure(HTTPError(status: 505)))
    }

    @Test func bareLFIs400() {
        guard case .failure(let e) = parse([utf8("HTTP/1.1 200 OK\n\r\n")]) else { Issue.record(); return }
        #expect(e.status == 400)
    }

    @Test func oversizedResponseIs431() {
        guard case .failure(let e) = parse([response], limits: HTTPLimits(maxHeadBytes: 40)) else { Issue.record(); return }
        #expect(e.status == 431)
    }
}
