import Testing
@testable import CircleTLS

/// Peers the policy refuses, and hostile bytes.
@Suite struct TLSRefusalTests {
    /// An RSA server, so that a refusal of RSA key exchange or CBC suites is the policy's, not the key type's.
    private func rsaPair(_ settings: TLSContext.Settings) throws -> TLSPair {
        let certificates = try Certificates.shared()
        return try TLSPair(
            client: .client(trustedCAPath: certificates.root, serverName: "localhost", alpn: ["http/1.1"],
                            settings: settings),
            server: .server(certificateChainPath: certificates.rsaChain, privateKeyPath: certificates.rsaKey))
    }

    @Test func tls11ClientIsRefused() throws {
        var settings = TLSContext.Settings()
        settings.minVersion = TLSContext.Settings.tls1_1
        settings.maxVersion = TLSContext.Settings.tls1_1
        settings.securityLevel = 0
        settings.tls12Ciphers = "DEFAULT:@SECLEVEL=0"
        let pair = try rsaPair(settings)
        #expect(pair.client.start(output: &pair.toServer) == .ok)
        #expect(!pair.toServer.isEmpty, "the TLS 1.1 client must really offer a handshake")
        pair.pump()
        #expect(failure(pair.serverResult)?.contains("unsupported protocol") == true)
        #expect(failure(pair.clientResult) != nil, "the client is told with an alert")
        #expect(!pair.server.isHandshakeComplete)
    }

    @Test(arguments: ["AES128-SHA", "AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA384",
                      "DHE-RSA-AES128-GCM-SHA256"])
    func weakCipherClientIsRefused(cipher: String) throws {
        var settings = TLSContext.Settings.tls12Only
        settings.tls12Ciphers = cipher
        let pair = try rsaPair(settings)
        pair.handshake()
        #expect(failure(pair.serverResult)?.contains("no shared cipher") == true)
        #expect(failure(pair.clientResult) != nil)
    }

    @Test func theSameClientWithAModernCipherConnects() throws {
        var settings = TLSContext.Settings.tls12Only
        settings.tls12Ciphers = "ECDHE-RSA-CHACHA20-POLY1305"
        let pair = try rsaPair(settings)
        pair.handshake()
        #expect(pair.server.cipherSuite == "ECDHE-RSA-CHACHA20-POLY1305")
    }

    @Test func garbageFailsAtOnce() throws {
        let pair = try TLSPair()
        var plaintext: [UInt8] = [], output: [UInt8] = []
        let result = pattern(4096).withUnsafeBytes { pair.server.receive($0, plaintext: &plaintext, output: &output) }
        #expect(failure(result) != nil)
        #expect(plaintext.isEmpty)
        #expect(output.count < 64, "at most an alert")
    }

    @Test func plainHTTPOnTheTLSPortFails() throws {
        let pair = try TLSPair()
        var plaintext: [UInt8] = [], output: [UInt8] = []
        let request = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        let result = request.withUnsafeBytes { pair.server.receive($0, plaintext: &plaintext, output: &output) }
        #expect(failure(result)?.contains("http request") == true)
    }

    @Test func oversizedRecordFailsBeforeItArrives() throws {
        let pair = try TLSPair()
        var plaintext: [UInt8] = [], output: [UInt8] = []
        let header: [UInt8] = [0x16, 0x03, 0x01, 0xFF, 0xFF]   // a 64 KiB handshake record
        let result = header.withUnsafeBytes { pair.server.receive($0, plaintext: &plaintext, output: &output) }
        #expect(failure(result) != nil)
    }

    @Test func oversizedClientHelloFailsBeforeItArrives() throws {
        let pair = try TLSPair()
        var plaintext: [UInt8] = [], output: [UInt8] = []
        // One record announcing a 16 MiB ClientHello.
        let start: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0xFF, 0xFF, 0xFF]
        let result = start.withUnsafeBytes { pair.server.receive($0, plaintext: &plaintext, output: &output) }
        #expect(failure(result)?.contains("excessive message size") == true)
    }

    @Test func tamperedRecordFailsTheConnection() throws {
        let pair = try TLSPair()
        pair.handshake()
        _ = pattern(100).withUnsafeBytes { pair.client.send($0, output: &pair.toServer) }
        pair.toServer[pair.toServer.count - 1] ^= 1
        pair.pump()
        #expect(failure(pair.serverResult)?.contains("bad record mac") == true)
        #expect(pair.serverReceived.isEmpty)
    }

    @Test func aFailureSticks() throws {
        let pair = try TLSPair()
        var plaintext: [UInt8] = [], output: [UInt8] = []
        let first = pattern(64).withUnsafeBytes { pair.server.receive($0, plaintext: &plaintext, output: &output) }
        let alert = output
        let again = pattern(64, seed: 5).withUnsafeBytes {
            pair.server.receive($0, plaintext: &plaintext, output: &output)
        }
        #expect(failure(first) != nil && again == first)
        #expect(output == alert, "nothing more is written")
        #expect([UInt8(1)].withUnsafeBytes { pair.server.send($0, output: &output) } == first)
        pair.server.shutdown(output: &output)
        #expect(output == alert)
    }
}
