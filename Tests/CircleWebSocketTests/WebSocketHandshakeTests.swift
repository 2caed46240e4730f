import CircleHTTP
import CircleWebSocket
import Testing

private func request(_ lines: [String], method: String = "GET", version: String = "HTTP/1.1") -> HTTPRequestHead {
    let text = "\(method) /ws \(version)\r\n" + lines.map { $0 + "\r\n" }.joined() + "\r\n"
    var parser = HTTPHeadParser()
    guard case .complete(let h, _) = parser.feed(utf8(text)) else { preconditionFailure("test request must parse") }
    return h
}

private let good = [
    "Host: circle.example", "Upgrade: websocket", "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
]

private func replacing(_ name: String, with line: String?) -> [String] {
    good.filter { !$0.hasPrefix(name + ":") } + (line.map { [$0] } ?? [])
}

private func refusal(_ head: HTTPRequestHead, _ options: WebSocketHandshake.Options = .init()) -> WebSocketHandshake.HandshakeError? {
    if case .failure(let e) = WebSocketHandshake.accept(head, options: options) { return e }
    return nil
}

@Suite struct WebSocketHandshakeTests {
    @Test func rfcSampleKey() {
        #expect(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func acceptsAValidUpgradeWithExactResponse() throws {
        let head = request(good)
        #expect(WebSocketHandshake.isUpgradeRequest(head))
        let accepted = try WebSocketHandshake.accept(head).get()
        #expect(String(decoding: accepted.response, as: UTF8.self) == "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
        #expect(accepted.subprotocol == nil)
    }

    @Test func tokensAreCaseInsensitiveAndListed() throws {
        let head = request(replacing("Connection", with: "Connection: keep-alive, UPGRADE").filter { $0 != "Upgrade: websocket" } + ["upgrade: WebSocket"])
        _ = try WebSocketHandshake.accept(head).get()
    }

    @Test func nonGetIs405WithAllow() {
        let e = refusal(request(good, method: "POST"))
        #expect(e?.error.status == 405)
        #expect(e?.headers == [HTTPHeader(name: "Allow", value: "GET")])
    }

    @Test func http10Is400() {
        #expect(refusal(request(good, version: "HTTP/1.0"))?.error.status == 400)
    }

    @Test func missingUpgradeIs426() {
        let head = request(replacing("Upgrade", with: nil))
        #expect(!WebSocketHandshake.isUpgradeRequest(head))
        let e = refusal(head)
        #expect(e?.error.status == 426)
        #expect(e?.headers.contains(HTTPHeader(name: "Upgrade", value: "websocket")) == true)
    }

    @Test func missingConnectionUpgradeIs400() {
        #expect(refusal(request(replacing("Connection", with: "Connection: keep-alive")))?.error.status == 400)
        #expect(refusal(request(replacing("Connection", with: nil)))?.error.status == 400)
    }

    @Test func wrongVersionIs426WithSupportedVersion() {
        for line in ["Sec-WebSocket-Version: 8", "Sec-WebSocket-Version: 13, 8", nil] {
            let e = refusal(request(replacing("Sec-WebSocket-Version", with: line)))
            #expect(e?.error.status == 426)
            #expect(e?.headers == [HTTPHeader(name: "Sec-WebSocket-Version", value: "13")])
            let response = String(decoding: e?.response ?? [], as: UTF8.self)
            #expect(response.hasPrefix("HTTP/1.1 426 Upgrade Required\r\n"))
            #expect(response.contains("\r\nSec-WebSocket-Version: 13\r\n"))
            #expect(response.contains("\r\nConnection: close\r\n"))
        }
    }

    @Test func badKeyIs400() {
        for line in [nil, "Sec-WebSocket-Key: short", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZ!=="] {
            #expect(refusal(request(replacing("Sec-WebSocket-Key", with: line)))?.error.status == 400, "\(String(describing: line))")
        }
        #expect(refusal(request(good + ["Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=="]))?.error.status == 400)  // two keys
    }

    @Test func originAllowList() throws {
        let options = WebSocketHandshake.Options(allowedOrigins: ["https://circle.example"])
        _ = try WebSocketHandshake.accept(request(good + ["Origin: https://circle.example"]), options: options).get()
        #expect(refusal(request(good + ["Origin: https://evil.example"]), options)?.error.status == 403)
        #expect(refusal(request(good + ["Origin: https://circle.example", "Origin: https://evil.example"]), options)?.error.status == 403)
        _ = try WebSocketHandshake.accept(request(good), options: options).get()  // non-browser client
        let strict = WebSocketHandshake.Options(allowedOrigins: ["https://circle.example"], requireOrigin: true)
        #expect(refusal(request(good), strict)?.error.status == 403)
        _ = try WebSocketHandshake.accept(request(good + ["Origin: https://evil.example"])).get()  // no list: any origin
    }

    @Test func subprotocolSelection() throws {
        let head = request(good + ["Sec-WebSocket-Protocol: chat.v2, circle.v1", "Sec-WebSocket-Protocol: other"])
        let options = WebSocketHandshake.Options(selectSubprotocol: { $0.contains("circle.v1") ? "circle.v1" : nil })
        let accepted = try WebSocketHandshake.accept(head, options: options).get()
        #expect(accepted.subprotocol == "circle.v1")
        #expect(String(decoding: accepted.response, as: UTF8.self).contains("\r\nSec-WebSocket-Protocol: circle.v1\r\n"))

        let rogue = WebSocketHandshake.Options(selectSubprotocol: { _ in "not-offered" })
        let ignored = try WebSocketHandshake.accept(head, options: rogue).get()
        #expect(ignored.subprotocol == nil)
        #expect(!String(decoding: ignored.response, as: UTF8.self).contains("Sec-WebSocket-Protocol"))
    }
}

@Suite struct WebSocketClientHandshakeTests {
    private func serverResponse(for request: [UInt8], options: WebSocketHandshake.Options = .init()) throws -> [UInt8] {
        var parser = HTTPHeadParser()
        guard case .complete(let head, let consumed) = parser.feed(request) else { throw HTTPError(status: 400) }
        #expect(consumed == request.count)
        return try WebSocketHandshake.accept(head, options: options).get().response
    }

    @Test func keysAreFreshBase64Of16Bytes() {
        let a = WebSocketHandshake.makeKey(), b = WebSocketHandshake.makeKey()
        #expect(a != b)
        #expect(a.utf8.count == 24 && a.hasSuffix("=="))
    }

    @Test func requestAndResponseRoundTrip() throws {
        let key = WebSocketHandshake.makeKey()
        let req = WebSocketHandshake.clientRequest(host: "localhost:8080", path: "/ws?room=a", key: key,
                                                   extraHeaders: [HTTPHeader(name: "Sec-WebSocket-Protocol", value: "circle.v1")])
        let options = WebSocketHandshake.Options(selectSubprotocol: { $0.first })
        let response = try serverResponse(for: req, options: options)
        let frame = WebSocketCodec(role: .server).encodeMessage(.text, utf8("welcome"))
        let stream = response + frame
        for chunks in splits(of: stream) {
            var client = WebSocketClientHandshake(key: key, offeredSubprotocols: ["circle.v1"])
            var result = WebSocketClientHandshake.Outcome.needMore
            var fedBefore = 0
            var rest: [UInt8] = []
            for chunk in chunks {
                guard result == .needMore else { rest += chunk; continue }
                result = client.feed(chunk)
                if case .accepted(_, let consumed) = result { rest = Array(chunk[consumed...]) } else { fedBefore += chunk.count }
            }
            guard case .accepted(let sub, let consumed) = result else { Issue.record("\(result)"); return }
            #expect(sub == "circle.v1")
            #expect(fedBefore + consumed == response.count)
            #expect(run(.client, rest) == [.text(utf8("welcome"))])
        }
    }

    @Test func refusesANon101Status() {
        var client = WebSocketClientHandshake(key: "dGhlIHNhbXBsZSBub25jZQ==")
        #expect(client.feed(HTTPResponse.error(HTTPError(status: 403))) == .failed(.unexpectedStatus(403)))
    }

    @Test func refusesAWrongAccept() {
        let response = HTTPResponse.make(status: 101, headers: [
            HTTPHeader(name: "Upgrade", value: "websocket"), HTTPHeader(name: "Connection", value: "Upgrade"),
            HTTPHeader(name: "Sec-WebSocket-Accept", value: WebSocketHandshake.acceptValue(forKey: "b3RoZXIga2V5IDEyMzQ1Ng==")),
        ])
        var client = WebSocketClientHandshake(key: "dGhlIHNhbXBsZSBub25jZQ==")
        #expect(client.feed(response) == .failed(.badAccept))
    }

    @Test func refusesAMissingUpgrade() {
        let response = HTTPResponse.make(status: 101, headers: [
            HTTPHeader(name: "Connection", value: "Upgrade"),
            HTTPHeader(name: "Sec-WebSocket-Accept", value: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        ])
        var client = WebSocketClientHandshake(key: "dGhlIHNhbXBsZSBub25jZQ==")
        #expect(client.feed(response) == .failed(.notUpgraded))
    }

    @Test func refusesUnrequestedNegotiation() {
        let base = [
            HTTPHeader(name: "Upgrade", value: "websocket"), HTTPHeader(name: "Connection", value: "Upgrade"),
            HTTPHeader(name: "Sec-WebSocket-Accept", value: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        ]
        for extra in [HTTPHeader(name: "Sec-WebSocket-Protocol", value: "x"), HTTPHeader(name: "Sec-WebSocket-Extensions", value: "permessage-deflate")] {
            var client = WebSocketClientHandshake(key: "dGhlIHNhbXBsZSBub25jZQ==")
            #expect(client.feed(HTTPResponse.make(status: 101, headers: base + [extra])) == .failed(.unexpectedNegotiation))
        }
    }

    @Test func refusesAMalformedResponse() {
        var client = WebSocketClientHandshake(key: "dGhlIHNhbXBsZSBub25jZQ==")
        guard case .failed(.malformedResponse(let e)) = client.feed(utf8("HTTP/1.1 101\nUpgrade: websocket\r\n\r\n")) else { Issue.record(); return }
        #expect(e.status == 400)
    }
}
