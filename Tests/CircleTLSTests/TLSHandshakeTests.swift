import Testing
@testable import CircleTLS

@Suite struct TLSHandshakeTests {
    @Test func tls13HandshakeNegotiatesHTTP11() throws {
        let pair = try TLSPair()
        #expect(!pair.client.isHandshakeComplete && pair.client.protocolVersion == nil)
        pair.handshake()
        #expect(pair.serverResult == .ok && pair.clientResult == .ok)
        for side in [pair.client, pair.server] {
            #expect(side.isHandshakeComplete)
            #expect(side.protocolVersion == "TLSv1.3")
            #expect(side.negotiatedProtocol == "http/1.1")
        }
        #expect(pair.server.cipherSuite == "TLS_AES_128_GCM_SHA256")
        // No resumption: the server sends no session tickets after the handshake.
        #expect(pair.toClient.isEmpty)
    }

    @Test func tls12ClientGetsTLS12WithAnECDHEGCMSuite() throws {
        let pair = try TLSPair(clientSettings: .tls12Only)
        pair.handshake()
        #expect(pair.server.isHandshakeComplete && pair.client.isHandshakeComplete)
        #expect(pair.server.protocolVersion == "TLSv1.2")
        #expect(pair.client.protocolVersion == "TLSv1.2")
        #expect(pair.server.cipherSuite == "ECDHE-ECDSA-AES128-GCM-SHA256")
        #expect(pair.server.negotiatedProtocol == "http/1.1")
    }

    @Test func tls12WithAnRSACertificateUsesECDHERSA() throws {
        let certificates = try Certificates.shared()
        let pair = try TLSPair(
            client: .client(trustedCAPath: certificates.root, serverName: "localhost", alpn: ["http/1.1"],
                            settings: .tls12Only),
            server: .server(certificateChainPath: certificates.rsaChain, privateKeyPath: certificates.rsaKey))
        pair.handshake()
        #expect(pair.client.isHandshakeComplete)
        #expect(pair.server.cipherSuite == "ECDHE-RSA-AES128-GCM-SHA256")
    }

    @Test func serverPrefersItsOwnCipherOrder() throws {
        var settings = TLSContext.Settings.tls12Only
        settings.tls12Ciphers = ["ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-ECDSA-AES256-GCM-SHA384",
                                 "ECDHE-ECDSA-AES128-GCM-SHA256"].joined(separator: ":")
        let pair = try TLSPair(clientSettings: settings)
        pair.handshake()
        #expect(pair.server.cipherSuite == "ECDHE-ECDSA-AES128-GCM-SHA256")
    }

    @Test func clientOfferingNoALPNStillConnects() throws {
        let pair = try TLSPair(alpn: [])
        pair.handshake()
        #expect(pair.server.isHandshakeComplete && pair.client.isHandshakeComplete)
        #expect(pair.server.negotiatedProtocol == nil && pair.client.negotiatedProtocol == nil)
    }

    @Test func clientOfferingOnlyOtherProtocolsConnectsWithoutALPN() throws {
        let pair = try TLSPair(alpn: ["h2", "spdy/3"])
        pair.handshake()
        #expect(pair.client.isHandshakeComplete)
        #expect(pair.server.negotiatedProtocol == nil)
    }

    @Test func serverPicksHTTP11AmongOthers() throws {
        let pair = try TLSPair(alpn: ["h2", "http/1.1", "http/1.0"])
        pair.handshake()
        #expect(pair.client.negotiatedProtocol == "http/1.1")
    }

    @Test(arguments: [false, true])
    func handshakeFedOneByteAtATime(tls12: Bool) throws {
        let pair = try TLSPair(clientSettings: tls12 ? .tls12Only : .init())
        pair.handshake(chunk: 1)
        #expect(pair.serverResult == .ok && pair.clientResult == .ok)
        #expect(pair.server.isHandshakeComplete && pair.client.isHandshakeComplete)
        #expect(pair.serverSends(pattern(3000), chunk: 1) == .ok)
        #expect(pair.clientReceived == pattern(3000))
    }

    @Test func clientHelloSplitAtEveryByte() throws {
        var cut = 1
        while true {
            let pair = try TLSPair()
            pair.client.start(output: &pair.toServer)
            let hello = pair.toServer
            pair.toServer = []
            guard cut < hello.count else { break }
            var plaintext: [UInt8] = []
            let first = hello[..<cut].withUnsafeBytes {
                pair.server.receive($0, plaintext: &plaintext, output: &pair.toClient)
            }
            #expect(first == .ok)
            #expect(pair.toClient.isEmpty, "the server answered a partial ClientHello (cut \(cut))")
            pair.serverResult = hello[cut...].withUnsafeBytes {
                pair.server.receive($0, plaintext: &plaintext, output: &pair.toClient)
            }
            pair.pump()
            #expect(pair.client.isHandshakeComplete && pair.server.isHandshakeComplete, "cut \(cut)")
            cut += 1
        }
        #expect(cut > 100)
    }

    @Test func serverFlightSplitAtEveryByte() throws {
        var cut = 1
        while true {
            let pair = try TLSPair()
            pair.client.start(output: &pair.toServer)
            var plaintext: [UInt8] = []
            _ = pair.toServer.withUnsafeBytes {
                pair.server.receive($0, plaintext: &plaintext, output: &pair.toClient)
            }
            pair.toServer = []
            let flight = pair.toClient
            pair.toClient = []
            guard cut < flight.count else { break }
            for piece in [flight[..<cut], flight[cut...]] {
                let result = piece.withUnsafeBytes {
                    pair.client.receive($0, plaintext: &plaintext, output: &pair.toServer)
                }
                #expect(result == .ok, "cut \(cut)")
            }
            pair.pump()
            #expect(pair.client.isHandshakeComplete && pair.server.isHandshakeComplete, "cut \(cut)")
            cut += 1
        }
        #expect(cut > 500)   // the certificate chain is in this flight
    }

    @Test func serverStartIsANoOp() throws {
        let pair = try TLSPair()
        var output: [UInt8] = []
        #expect(pair.server.start(output: &output) == .ok)
        #expect(output.isEmpty)
    }

    @Test func partialClientHelloLeavesTheHandshakePending() throws {
        let pair = try TLSPair()
        pair.client.start(output: &pair.toServer)
        var plaintext: [UInt8] = [], output: [UInt8] = []
        let result = pair.toServer.prefix(40).withUnsafeBytes {
            pair.server.receive($0, plaintext: &plaintext, output: &output)
        }
        #expect(result == .ok)
        #expect(!pair.server.isHandshakeComplete && output.isEmpty && plaintext.isEmpty)
    }
}
