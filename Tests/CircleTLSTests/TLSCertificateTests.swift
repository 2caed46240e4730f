import Testing
@testable import CircleTLS

/// Chains, verification and the errors of building a context.
@Suite struct TLSCertificateTests {
    private func pair(trust: String?, serverName: String?, chain: String? = nil) throws -> TLSPair {
        let certificates = try Certificates.shared()
        return try TLSPair(
            client: .client(trustedCAPath: trust, serverName: serverName),
            server: .server(certificateChainPath: chain ?? certificates.chain, privateKeyPath: certificates.leafKey))
    }

    @Test func chainVerifiesAgainstTheRoot() throws {
        let pair = try pair(trust: Certificates.shared().root, serverName: "localhost")
        pair.handshake()
        #expect(pair.clientResult == .ok && pair.client.isHandshakeComplete)
    }

    @Test func ipAddressNameMatchesTheIPSubjectAltName() throws {
        let pair = try pair(trust: Certificates.shared().root, serverName: "127.0.0.1")
        pair.handshake()
        #expect(pair.client.isHandshakeComplete)
    }

    @Test func otherIPAddressDoesNotVerify() throws {
        let pair = try pair(trust: Certificates.shared().root, serverName: "127.0.0.2")
        pair.handshake()
        #expect(failure(pair.clientResult)?.contains("IP address mismatch") == true)
    }

    @Test func leafWithoutItsIntermediateDoesNotVerify() throws {
        let certificates = try Certificates.shared()
        let pair = try pair(trust: certificates.root, serverName: "localhost", chain: certificates.leafOnly)
        pair.handshake()
        #expect(failure(pair.clientResult)?.contains("unable to get local issuer certificate") == true)
        #expect(failure(pair.serverResult) != nil, "the client's alert fails the server too")
    }

    @Test func untrustedRootDoesNotVerify() throws {
        let pair = try pair(trust: Certificates.shared().otherRoot, serverName: "localhost")
        pair.handshake()
        #expect(failure(pair.clientResult)?.contains("certificate verify failed") == true)
    }

    @Test func wrongHostNameDoesNotVerify() throws {
        let pair = try pair(trust: Certificates.shared().root, serverName: "circle.example")
        pair.handshake()
        let message = failure(pair.clientResult) ?? ""
        #expect(message.contains("hostname mismatch"), "\(message)")
    }

    @Test func clientWithoutTrustAnchorsDoesNotVerify() throws {
        let pair = try pair(trust: nil, serverName: nil, chain: Certificates.shared().leafOnly)
        pair.handshake()
        #expect(pair.client.isHandshakeComplete)
    }

    @Test func missingCertificateFileIsAClearError() throws {
        let certificates = try Certificates.shared()
        let error = #expect(throws: TLSError.self) {
            try TLSContext.server(certificateChainPath: "/nonexistent/cert.pem", privateKeyPath: certificates.leafKey)
        }
        #expect(error?.message.contains("cannot load certificate chain from '/nonexistent/cert.pem'") == true)
        #expect(error?.message.contains("No such file or directory") == true)
        #expect(error?.message.contains("system lib;") == false, "layer-only reasons are dropped")
    }

    @Test func missingKeyFileIsAClearError() throws {
        let certificates = try Certificates.shared()
        let error = #expect(throws: TLSError.self) {
            try TLSContext.server(certificateChainPath: certificates.chain, privateKeyPath: "/nonexistent/key.pem")
        }
        #expect(error?.message.contains("cannot load private key from '/nonexistent/key.pem'") == true)
        #expect(error?.message.contains("No such file or directory") == true)
    }

    @Test func keyThatDoesNotMatchTheCertificateIsRefused() throws {
        let certificates = try Certificates.shared()
        let error = #expect(throws: TLSError.self) {
            try TLSContext.server(certificateChainPath: certificates.chain, privateKeyPath: certificates.strayKey)
        }
        #expect(error?.message.contains("does not match certificate") == true)
    }

    @Test func keyOfAnotherTypeIsRefused() throws {
        let certificates = try Certificates.shared()
        let error = #expect(throws: TLSError.self) {
            try TLSContext.server(certificateChainPath: certificates.chain, privateKeyPath: certificates.rsaKey)
        }
        #expect(error?.message.contains("does not match certificate") == true)
    }

    @Test func fileThatIsNotPEMIsRefused() throws {
        let certificates = try Certificates.shared()
        let error = #expect(throws: TLSError.self) {
            try TLSContext.server(certificateChainPath: certificates.path("openssl.cnf"),
                                  privateKeyPath: certificates.leafKey)
        }
        #expect(error?.message.contains("no start line") == true)
        #expect(throws: TLSError.self) {
            try TLSContext.server(certificateChainPath: certificates.chain,
                                  privateKeyPath: certificates.path("openssl.cnf"))
        }
    }

    @Test func keyFileHoldingACertificateIsRefused() throws {
        let certificates = try Certificates.shared()
        #expect(throws: TLSError.self) {
            try TLSContext.server(certificateChainPath: certificates.chain, privateKeyPath: certificates.chain)
        }
    }

    @Test func encryptedKeyIsRefusedWithoutAPrompt() throws {
        let certificates = try Certificates.shared()
        let error = #expect(throws: TLSError.self) {
            try TLSContext.server(certificateChainPath: certificates.chain,
                                  privateKeyPath: certificates.encryptedLeafKey)
        }
        #expect(error?.message.contains("is encrypted") == true)
    }

    @Test func missingTrustFileIsAClearError() throws {
        let error = #expect(throws: TLSError.self) {
            try TLSContext.client(trustedCAPath: "/nonexistent/ca.pem", serverName: "localhost")
        }
        #expect(error?.message.contains("cannot load trusted certificates from '/nonexistent/ca.pem'") == true)
    }

    @Test(arguments: [[""], [String(repeating: "x", count: 256)]])
    func invalidALPNNameIsRefused(alpn: [String]) throws {
        #expect(throws: TLSError.self) { try TLSContext.client(trustedCAPath: nil, serverName: nil, alpn: alpn) }
    }

    @Test func contextErrorsLeaveNoStaleOpenSSLErrors() throws {
        let certificates = try Certificates.shared()
        _ = try? TLSContext.server(certificateChainPath: "/nonexistent", privateKeyPath: "/nonexistent")
        // A connection on the same thread right after a failed load is unaffected.
        let pair = try TLSPair(client: .client(trustedCAPath: certificates.root, serverName: "localhost"),
                               server: .server(certificateChainPath: certificates.chain,
                                               privateKeyPath: certificates.leafKey))
        pair.handshake()
        #expect(pair.client.isHandshakeComplete && pair.server.isHandshakeComplete)
    }

    @Test func connectionsOutliveTheirContextsOwner() throws {
        let certificates = try Certificates.shared()
        var server: TLSContext? = try .server(certificateChainPath: certificates.chain,
                                              privateKeyPath: certificates.leafKey)
        let pair = try TLSPair(client: .client(trustedCAPath: certificates.root, serverName: "localhost"),
                               server: server!)
        server = nil   // a reload swapped it out; the connection keeps it
        pair.handshake()
        #expect(pair.server.isHandshakeComplete)
        #expect(pair.clientSends(Array("still here".utf8)) == .ok)
        #expect(pair.serverReceived == Array("still here".utf8))
    }
}
