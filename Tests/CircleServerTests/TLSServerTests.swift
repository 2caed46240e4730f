import CircleHTTP
import CircleLoop
import CircleServer
import CircleTLS
import CircleWebSocket
import Foundation
import CircleTestSupport
import Testing

/// wss:// and https:// against the server on a real loop: a TLS client (the same TLS engine in the client role,
/// as a transport filter) next to plain clients.
@Suite struct TLSServerTests {
    private func bytes(_ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } }

    @Test(arguments: [0, 126, 64 << 10, 1 << 20])
    func echoesOverWSS(size: Int) throws {
        let files = try TLSFiles.shared()
        let env = try TestServer.withTLS()
        let (client, tls) = try TestClient.webSocketTLS(env, trusting: files.ca(.a))
        try #require(client.upgraded, "no upgrade: \(tls.failure ?? "-")")
        #expect(tls.tls.negotiatedProtocol == "http/1.1")
        #expect(tls.tls.protocolVersion == "TLSv1.3")
        let payload = bytes(size)
        client.send(.binary, payload)
        client.sendText("after")
        #expect(env.run { client.messages.count == 2 })
        #expect(client.messages == [.binary(payload), .text(Array("after".utf8))])
        #expect(env.server.tlsHandshakes == 1 && env.server.tlsHandshakeFailures == 0)
        env.shutDown()
    }

    @Test func plainAndTLSListenersServeAtOnce() throws {
        let files = try TLSFiles.shared()
        let env = try TestServer.withTLS()
        #expect(env.server.listening.map(\.isTLS) == [false, true])
        #expect(env.port != env.tlsPort)
        let plain = TestClient.webSocket(env)
        let (secure, _) = try TestClient.webSocketTLS(env, trusting: files.ca(.a))
        #expect(plain.upgraded && secure.upgraded)
        plain.sendText("plain")
        secure.sendText("secure")
        #expect(env.run { plain.messages.count == 1 && secure.messages.count == 1 })
        #expect(plain.texts == ["plain"] && secure.texts == ["secure"])
        env.shutDown()
    }

    @Test func tlsOnlyWhenNoSeparatePortIsGiven() throws {
        let files = try TLSFiles.shared()
        let settings = try files.servedCopy(of: .a)
        let env = try TestServer { $0.tls = settings }
        #expect(env.server.listening.map(\.isTLS) == [true])
        #expect(env.tlsPort == env.port)
        let (client, _) = try TestClient.webSocketTLS(env, trusting: files.ca(.a))
        #expect(client.upgraded)
        env.shutDown()
    }

    @Test func httpsHealthzEndsWithCloseNotifyBeforeFIN() throws {
        let files = try TLSFiles.shared()
        let env = try TestServer.withTLS()
        let (client, tls) = try TestClient.rawTLS(env, trusting: files.ca(.a),
                                                  Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(env.run { client.tcpClosed })
        #expect(client.status == 200)
        #expect(client.rawResponseText.hasSuffix("\r\n\r\nok\n"))
        #expect(tls.peerClosed, "the server closed without close_notify")
        env.shutDown()
    }

    @Test(arguments: ["GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "\u{16}\u{03}\u{01}\u{00}\u{05}garbage"])
    func plainTextOrGarbageOnTheTLSPortIsClosedWithoutDisturbingOthers(request: String) throws {
        let files = try TLSFiles.shared()
        let env = try TestServer.withTLS()
        let (good, _) = try TestClient.webSocketTLS(env, trusting: files.ca(.a))
        try #require(good.upgraded)
        let hostile = TestClient()
        hostile.connect(env, port: env.tlsPort, sending: Array(request.utf8))
        #expect(env.run { hostile.tcpClosed })
        #expect(!hostile.rawResponseText.contains("HTTP/1.1"), "the TLS port answered in plain text")
        #expect(env.server.tlsHandshakeFailures == 1)
        #expect(env.logs.text.contains("tls handshake failed conn="))
        good.sendText("still here")
        #expect(env.run { good.messages.count == 1 })
        #expect(good.texts == ["still here"])
        env.shutDown()
    }

    @Test func untrustedCertificateFailsTheClientHandshake() throws {
        let files = try TLSFiles.shared()
        let env = try TestServer.withTLS()
        let (client, tls) = try TestClient.webSocketTLS(env, trusting: files.ca(.b))
        #expect(env.run { client.tcpClosed })
        #expect(!client.upgraded)
        #expect(tls.failure?.contains("certificate") == true)
        // The client's alert reaches the server, which counts a failed handshake.
        #expect(env.run { env.server.tlsHandshakeFailures == 1 })
        env.shutDown()
    }

    @Test func stalledHandshakeIsDroppedByTheHeadTimeout() throws {
        let env = try TestServer.withTLS { $0.headTimeoutMilliseconds = 200 }
        var hello: [UInt8] = []
        let tls = try TLSConnection(context: .client(trustedCAPath: nil, serverName: "localhost"))
        tls.start(output: &hello)
        try #require(hello.count > 100)
        let stalled = TestClient()
        stalled.connect(env, port: env.tlsPort, sending: Array(hello[..<(hello.count / 2)]))
        #expect(env.run { stalled.tcpClosed })
        #expect(env.logs.text.contains("request head timed out"))
        #expect(env.server.connectionCount == 0)
        env.shutDown()
    }

    @Test func pastTheConnectionLimitATLSClientIsClosedBeforeAnyHandshake() throws {
        let files = try TLSFiles.shared()
        let env = try TestServer.withTLS { $0.maxConnections = 1 }
        let (first, _) = try TestClient.webSocketTLS(env, trusting: files.ca(.a))
        try #require(first.upgraded)
        let (refused, tls) = try TestClient.webSocketTLS(env, trusting: files.ca(.a))
        #expect(env.run { refused.tcpClosed })
        #expect(!refused.upgraded && !tls.tls.isHandshakeComplete)
        #expect(env.server.tlsHandshakes == 1)
        #expect(env.logs.text.contains("connection limit reached"))
        env.shutDown()
    }

    @Test func gracefulShutdownSends1001OverTLS() throws {
        let files = try TLSFiles.shared()
        let env = try TestServer.withTLS()
        let (client, tls) = try TestClient.webSocketTLS(env, trusting: files.ca(.a))
        try #require(client.upgraded)
        env.server.beginShutdown()
        #expect(env.run { client.tcpClosed })
        #expect(client.serverClose?.code == 1001)
        #expect(tls.peerClosed)
        env.shutDown()
    }

    @Test func reloadServesTheNewCertificateToNewConnectionsOnly() throws {
        let files = try TLSFiles.shared()
        let settings = try files.servedCopy(of: .a)
        let env = try TestServer.withTLS(settings)
        let (old, _) = try TestClient.webSocketTLS(env, trusting: files.ca(.a))
        try #require(old.upgraded)
        let (beforeB, _) = try TestClient.webSocketTLS(env, trusting: files.ca(.b))
        #expect(!beforeB.upgraded)

        try files.replace(settings, with: .b)
        #expect(env.server.reloadTLS())
        #expect(env.logs.text.contains("tls reloaded"))

        let (afterB, afterBTLS) = try TestClient.webSocketTLS(env, trusting: files.ca(.b))
        #expect(afterB.upgraded, "new connection did not get the new certificate: \(afterBTLS.failure ?? "-")")
        let (afterA, _) = try TestClient.webSocketTLS(env, trusting: files.ca(.a))
        #expect(!afterA.upgraded, "new connection still got the old certificate")
        old.sendText("old connection")
        afterB.sendText("new connection")
        #expect(env.run { old.messages.count == 1 && afterB.messages.count == 1 })
        #expect(old.texts == ["old connection"] && afterB.texts == ["new connection"])
        env.shutDown()
    }

    @Test(arguments: ["not a certificate\n", ""])
    func reloadWithABadCertificateKeepsTheOldOne(chain: String) throws {
        let files = try TLSFiles.shared()
        let settings = try files.servedCopy(of: .a)
        let env = try TestServer.withTLS(settings)
        let (old, _) = try TestClient.webSocketTLS(env, trusting: files.ca(.a))
        try #require(old.upgraded)
        try chain.write(toFile: settings.certificateChainPath, atomically: true, encoding: .utf8)
        #expect(!env.server.reloadTLS())
        let log = env.logs.text
        #expect(log.contains("tls reload failed") && log.contains(settings.certificateChainPath))
        #expect(!log.contains("tls reloaded"))
        #expect(!log.contains("BEGIN"), "certificate or key material in the log")
        let (fresh, _) = try TestClient.webSocketTLS(env, trusting: files.ca(.a))
        #expect(fresh.upgraded, "the old certificate is no longer served")
        old.sendText("x")
        #expect(env.run { old.messages.count == 1 })
        env.shutDown()
    }

    @Test func reloadWithAKeyNotMatchingKeepsTheOldOne() throws {
        let files = try TLSFiles.shared()
        let settings = try files.servedCopy(of: .a)
        let env = try TestServer.withTLS(settings)
        try Data(contentsOf: URL(fileURLWithPath: files.key(.b)))
            .write(to: URL(fileURLWithPath: settings.privateKeyPath), options: .atomic)
        #expect(!env.server.reloadTLS())
        #expect(env.logs.text.contains("does not match"))
        let (fresh, _) = try TestClient.webSocketTLS(env, trusting: files.ca(.a))
        #expect(fresh.upgraded)
        env.shutDown()
    }

    @Test func reloadWithoutTLSConfiguredDoesNothing() throws {
        let env = try TestServer()
        #expect(!env.server.reloadTLS())
        #expect(env.server.tlsAddresses.isEmpty)
        env.shutDown()
    }

    @Test func startFailsOnAMissingCertificateAndBindsNothing() throws {
        let loop = try EventLoop()
        var config = ServerConfiguration()
        config.port = 0
        config.tls = TLSSettings(
            certificateChainPath: "/nonexistent/chain.pem", privateKeyPath: "/nonexistent/key.pem")
        let server = Server(loop: loop, configuration: config, logger: .init(label: "test"))
        #expect(throws: TLSError.self) { try server.start() }
        #expect(server.listening.isEmpty)
        #expect(loop.close() == 0)
    }

    @Test func oneTurnOfWritesLeavesAsOneWrite() throws {
        let files = try TLSFiles.shared()
        let env = try TestServer.withTLS()
        let (client, _) = try TestClient.webSocketTLS(env, trusting: files.ca(.a))
        try #require(client.upgraded)
        env.run(milliseconds: 20)
        let before = try WriteSyscalls.count()
        for i in 0..<10 { client.sendText("message \(i)") }
        env.loop.flushDirty()
        let writes = try WriteSyscalls.count() - before
        #expect(writes == 1, "ten messages in one turn took \(writes) writes")
        #expect(env.run { client.messages.count == 10 })
        env.shutDown()
    }

    @Test func aClientThatStopsReadingIsClosedAsASlowConsumer() throws {
        let files = try TLSFiles.shared()
        let env = try TestServer.withTLS { $0.maxQueuedBytesEcho = 256 << 10 }
        let (client, _) = try TestClient.webSocketTLS(env, trusting: files.ca(.a))
        try #require(client.upgraded)
        client.tcp?.stopReading()
        client.tcp?.maxQueuedBytes = 64 << 20
        // Echoes pile up: the kernel's buffers fill, then the queue (ciphertext included) passes its bound.
        for _ in 0..<256 { client.send(.binary, bytes(64 << 10)) }
        #expect(env.run(timeoutMilliseconds: 10_000) { env.logs.text.contains("slow consumer closed") })
        client.tcp?.close()
        env.shutDown()
    }
}
