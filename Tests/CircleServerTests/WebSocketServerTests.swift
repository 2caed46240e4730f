import CircleHTTP
import CircleLoop
import CircleServer
import CircleWebSocket
import CircleTestSupport
import Testing

/// The WebSocket server on a real loop with real sockets (port 0), driven by a client on the same codec.
@Suite struct WebSocketServerTests {
    private func bytes(_ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } }

    @Test(arguments: [0, 125, 126, 65_535, 65_536, 1 << 20])
    func echoesBinaryMessagesOfEverySize(size: Int) throws {
        let env = try TestServer()
        let client = TestClient.webSocket(env)
        #expect(client.upgraded)
        let payload = bytes(size)
        client.send(.binary, payload)
        #expect(env.run { !client.messages.isEmpty })
        #expect(client.messages == [.binary(payload)])
        env.shutDown()
    }

    @Test(arguments: [0, 125, 126, 65_536])
    func echoesTextMessages(size: Int) throws {
        let env = try TestServer()
        let client = TestClient.webSocket(env)
        let text = String(repeating: "é", count: size / 2) + String(repeating: "a", count: size % 2)
        client.sendText(text)
        #expect(env.run { !client.messages.isEmpty })
        #expect(client.texts == [text])
        env.shutDown()
    }

    @Test func fragmentedMessageWithPingsBetweenFragments() throws {
        let env = try TestServer()
        let client = TestClient.webSocket(env)
        client.sendFrame(.text, Array("Hel".utf8), fin: false)
        client.sendFrame(.ping, Array("p1".utf8))
        client.sendFrame(.continuation, Array("lo, ".utf8), fin: false)
        client.sendFrame(.ping, Array("p2".utf8))
        client.sendFrame(.continuation, Array("wörld".utf8), fin: true)
        #expect(env.run { client.messages.count == 1 && client.pongs == 2 })
        #expect(client.texts == ["Hello, wörld"])
        env.shutDown()
    }

    @Test func invalidUTF8ClosesWith1007() throws {
        let env = try TestServer()
        let client = TestClient.webSocket(env)
        client.sendFrame(.text, [0x48, 0x69, 0xC0, 0xAF])  // overlong encoding
        #expect(env.run { client.tcpClosed })
        #expect(client.serverClose?.code == 1007)
        #expect(client.messages.isEmpty)
        env.shutDown()
    }

    @Test func invalidUTF8FailsBeforeTheMessageEnds() throws {
        let env = try TestServer()
        let client = TestClient.webSocket(env)
        client.sendFrame(.text, Array("ok so far".utf8), fin: false)
        client.sendFrame(.continuation, [0xED, 0xA0, 0x80], fin: false)  // a surrogate; the message is not finished
        #expect(env.run { client.tcpClosed })
        #expect(client.serverClose?.code == 1007)
        env.shutDown()
    }

    @Test func oversizedMessageClosesWith1009() throws {
        let env = try TestServer { $0.echoLimits = WebSocketLimits(maxFrameSize: 1000, maxMessageSize: 1500) }
        let single = TestClient.webSocket(env)
        single.send(.binary, bytes(1001))
        let fragmented = TestClient.webSocket(env)
        fragmented.sendFrame(.binary, bytes(1000), fin: false)
        fragmented.sendFrame(.continuation, bytes(1000), fin: true)
        #expect(env.run { single.tcpClosed && fragmented.tcpClosed })
        #expect(single.serverClose?.code == 1009)
        #expect(fragmented.serverClose?.code == 1009)
        #expect(single.messages.isEmpty && fragmented.messages.isEmpty)
        env.shutDown()
    }

    @Test func unmaskedClientFrameClosesWith1002() throws {
        let env = try TestServer()
        let client = TestClient.webSocket(env)
        client.sendFrame(.text, Array("hi".utf8), masked: false)
        #expect(env.run { client.tcpClosed })
        #expect(client.serverClose?.code == 1002)
        env.shutDown()
    }

    @Test func closeHandshakeIsEchoedAndServerClosesTCP() throws {
        let env = try TestServer()
        let client = TestClient.webSocket(env)
        client.close(code: 1000)
        #expect(env.run { client.tcpClosed })
        #expect(client.serverClose?.code == 1000)
        #expect(env.run { env.server.connectionCount == 0 })
        env.shutDown()
    }

    @Test func otherClientsCarryOnWhenOneMisbehaves() throws {
        let env = try TestServer()
        let good = TestClient.webSocket(env)
        let bad = TestClient.webSocket(env)
        bad.sendRaw([0x8F, 0x80, 0, 0, 0, 0])  // opcode 15
        good.sendText("still here")
        #expect(env.run { bad.tcpClosed && good.texts == ["still here"] })
        #expect(bad.serverClose?.code == 1002)
        env.shutDown()
    }

    @Test func gracefulShutdownSends1001ToEveryClient() throws {
        let env = try TestServer()
        let clients = (0..<5).map { _ in TestClient.webSocket(env) }
        #expect(clients.filter(\.upgraded).count == clients.count)
        env.server.beginShutdown()
        #expect(env.run { clients.allSatisfy(\.tcpClosed) })
        for c in clients { #expect(c.serverClose?.code == 1001) }
        // New connections are no longer accepted.
        let late = TestClient.webSocket(env)
        #expect(!late.upgraded)
        env.shutDown()
    }

    @Test func peerThatNeverAnswersOurCloseIsCut() throws {
        let env = try TestServer { $0.closeTimeoutMilliseconds = 100 }
        let client = TestClient.webSocket(env)
        client.answers = false
        env.server.beginShutdown()
        #expect(env.run(timeoutMilliseconds: 3000) { client.tcpClosed })
        #expect(client.serverClose?.code == 1001)
        env.shutDown()
    }

    @Test func keepalivePingsIdleConnectionsAndClosesDeadOnes() throws {
        let env = try TestServer {
            $0.pingIntervalMilliseconds = 60
            $0.pongTimeoutMilliseconds = 60
        }
        let alive = TestClient.webSocket(env)
        let dead = TestClient.webSocket(env)
        dead.answers = false
        #expect(env.run(timeoutMilliseconds: 3000) { dead.tcpClosed })
        #expect(alive.pings >= 1)
        #expect(!alive.tcpClosed)
        env.shutDown()
    }

    @Test func writesQueuedInOneTurnGoOutInOneWriteCall() throws {
        let env = try TestServer()
        let client = TestClient.webSocket(env)
        env.run(milliseconds: 20)
        let before = try WriteSyscalls.count()
        for i in 0..<50 { client.sendText("message \(i)") }
        #expect(try WriteSyscalls.count() == before)  // nothing written yet: queued for the end of the turn
        env.loop.flushDirty()
        #expect(try WriteSyscalls.count() == before + 1)
        #expect(env.run { client.messages.count == 50 })
        #expect(client.texts == (0..<50).map { "message \($0)" })
        env.shutDown()
    }
}
