import CircleCrypto
import CircleHTTP
@testable import CircleWebSocket
import CircleTestSupport
import Testing

/// The server's handshake answer: the 101 is byte for byte what HTTPResponse makes, and hostile key and version
/// fields get the right refusal.
@Suite struct WebSocketAcceptTests {
    // MARK: the 101

    @Test func switchingResponseIsWhatHTTPResponseMakes() {
        var rng = SplitMix64(seed: 11)
        for _ in 0..<200 {
            let key = Base64.encode((0..<16).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            let general = HTTPResponse.make(status: 101, headers: [
                HTTPHeader(name: "Upgrade", value: "websocket"),
                HTTPHeader(name: "Connection", value: "Upgrade"),
                HTTPHeader(name: "Sec-WebSocket-Accept",
                           value: Base64.encode(Crypto.sha1(Array((key + WebSocketHandshake.guid).utf8)))),
            ])
            #expect(WebSocketHandshake.switchingResponse(forKey: key) == general)
        }
        #expect(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func keyAndVersionChecksOnHostileHeaders() {
        func head(_ extra: [HTTPHeader]) -> HTTPRequestHead {
            HTTPRequestHead(method: "GET", target: "/", headers: [
                HTTPHeader(name: "Host", value: "h"), HTTPHeader(name: "Upgrade", value: "websocket"),
                HTTPHeader(name: "Connection", value: "Upgrade"),
            ] + extra)
        }
        func status(_ extra: [HTTPHeader]) -> Int {
            switch WebSocketHandshake.accept(head(extra)) {
            case .success: 101
            case .failure(let failure): failure.error.status
            }
        }
        let key = HTTPHeader(name: "Sec-WebSocket-Key", value: "dGhlIHNhbXBsZSBub25jZQ==")
        let v13 = HTTPHeader(name: "sec-websocket-version", value: "13")
        #expect(status([v13, key]) == 101)
        #expect(status([key, v13]) == 101)
        #expect(status([key]) == 426)
        #expect(status([v13, v13, key]) == 426)  // two version fields
        #expect(status([HTTPHeader(name: "Sec-WebSocket-Version", value: "8"), key]) == 426)
        #expect(status([HTTPHeader(name: "Sec-WebSocket-Version", value: "13, 8"), key]) == 426)
        #expect(status([v13]) == 400)
        #expect(status([v13, key, key]) == 400)  // two key fields
        for bad in ["dGhlIHNhbXBsZSBub25jZR==", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ",
                    "dGhlIHNhbXBsZSBub25jZQ==A",
                    "dGhlIHNhbXBsZSBub25jZ===", "dGhlIHNhbXBsZSBub25j-Q==", "", "AAAAAAAAAAAAAAAAAAAAAAAA",
                    "AAAAAAAAAAAAAAAAAAAAAAA=", "dGhlIHNhbXBsZSBub25jZQ==\u{0}"] {
            #expect(status([v13, HTTPHeader(name: "Sec-WebSocket-Key", value: bad)]) == 400, "\(bad)")
        }
    }
}
