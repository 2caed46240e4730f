import CircleHTTP
import CircleLoop
import CircleServer
import Testing

/// HTTP answers before (or instead of) the upgrade.
@Suite struct HTTPRoutingTests {
    private func request(_ env: TestServer, _ text: String) -> TestClient {
        let client = TestClient.raw(env, Array(text.utf8))
        env.run { client.tcpClosed }
        return client
    }

    @Test func healthz() throws {
        let env = try TestServer()
        let c = request(env, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(c.status == 200)
        #expect(c.rawResponseText.hasSuffix("\r\n\r\nok\n"))
        env.shutDown()
    }

    @Test(arguments: [
        ("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404),
        ("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405),
        ("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405),
        ("GET /healthz HTTP/1.1\r\nHost x\r\n\r\n", 400),
        ("GARBAGE\r\n\r\n", 400),
        ("GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n", 426),
        ("GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n", 400),
        ("GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    ])
    func errorStatuses(request text: String, status: Int) throws {
        let env = try TestServer()
        let c = request(env, text)
        #expect(c.status == status)
        if status == 426 { #expect(c.rawResponseText.contains("Sec-WebSocket-Version: 13")) }
        if status == 405 { #expect(c.rawResponseText.contains("Allow: GET")) }
        env.shutDown()
    }

    @Test func headTooLargeIs431() throws {
        let env = try TestServer()
        let big =
            "GET /healthz HTTP/1.1\r\nHost: x\r\n"
            + (0..<200).map { "X-Filler-\($0): \(String(repeating: "v", count: 60))\r\n" }.joined() + "\r\n"
        let c = request(env, big)
        #expect(c.status == 431)
        env.shutDown()
    }

    @Test func echoRouteIsOffByDefault() throws {
        let env = try TestServer { $0.conformanceEcho = false }
        let c = TestClient.webSocket(env)
        #expect(c.status == 404)
        env.shutDown()
    }

    @Test func slowlorisHeadIsDropped() throws {
        let env = try TestServer { $0.headTimeoutMilliseconds = 150 }
        let slow = TestClient.raw(env, Array("GET /healthz HTTP/1.1\r\nHost: x\r\n".utf8))
        // Trickle a byte every 40 ms: the deadline counts from the accept, so trickling doesn't help.
        let ticker = LoopTimer(loop: env.loop)
        ticker.start(afterMilliseconds: 40, repeatMilliseconds: 40) { slow.sendRaw(Array("X-A: b\r\n".utf8)) }
        #expect(env.run(timeoutMilliseconds: 3000) { slow.tcpClosed })
        ticker.close()
        #expect(slow.status == nil)
        // The server is still fine.
        let ok = request(env, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(ok.status == 200)
        env.shutDown()
    }

    @Test func originAllowList() throws {
        let env = try TestServer { $0.allowedOrigins = ["https://circle.example"] }
        let good = TestClient.webSocket(env, headers: [HTTPHeader(name: "Origin", value: "https://circle.example")])
        let bad = TestClient.webSocket(env, headers: [HTTPHeader(name: "Origin", value: "https://evil.example")])
        #expect(good.status == 101)
        #expect(bad.status == 403)
        env.shutDown()
    }

    @Test func aServerWithoutRecordsTellsAnotherOriginSo() throws {
        let env = try TestServer { $0.allowedOrigins = ["https://circle.example"] }
        let c = request(env, "GET /groups/g1/attendance HTTP/1.1\r\nHost: x\r\nOrigin: https://circle.example\r\n\r\n")
        #expect(c.status == 404)
        #expect(c.rawResponseText.contains("Access-Control-Allow-Origin: https://circle.example\r\n"))
        env.shutDown()
    }

    @Test func ipv6Listener() throws {
        let env = try TestServer { $0.hosts = ["127.0.0.1", "::1"] }
        #expect(env.server.connectionCount == 0)
        var status: Int?
        TCPConnection.connect(loop: env.loop, host: "::1", port: env.port) { result in
            guard case .success(let tcp) = result else { status = -1; return }
            final class Reader: TCPConnectionDelegate {
                let done: (Int) -> Void
                var parser = HTTPResponseHeadParser()
                init(_ done: @escaping (Int) -> Void) { self.done = done }
                func connection(_ c: TCPConnection, didRead bytes: UnsafeRawBufferPointer) {
                    if case .complete(let head, _) = parser.feed(bytes) { done(head.status) }
                }
                func connectionDidClose(_ c: TCPConnection, error: LoopError?) {}
            }
            tcp.delegate = Reader { status = $0 }
            tcp.startReading()
            tcp.write(Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        }
        #expect(env.run { status != nil })
        #expect(status == 200)
        env.shutDown()
    }
}
