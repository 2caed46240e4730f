import COpenSSL

/// A TLS context: the role, certificate chain and key, protocol versions, cipher suites and ALPN that connections
/// are made from.
///
/// A context is immutable once built, and OpenSSL's `SSL_CTX` is safe to share between threads for `SSL_new`, so
/// one context serves every loop. Certificate reload (SIGHUP) builds a new context from the files and swaps it in
/// for new connections; connections made from the old one keep it alive (OpenSSL reference-counts it, and each
/// ``TLSConnection`` holds its context) until they end.
public final class TLSContext: @unchecked Sendable {
    /// Which side of the handshake connections made from this context play.
    public enum Role: Sendable {
        /// Accepts handshakes, presents a certificate chain.
        case server
        /// Starts handshakes (tests and the load tool).
        case client
    }

    /// The role of every connection made from this context.
    public let role: Role
    /// Client role: the name sent as SNI and, when verifying, checked against the server's certificate.
    let serverName: String?
    /// Client role: whether the server's chain is verified against a trust anchor.
    let verifiesPeer: Bool
    /// The `SSL_CTX`, owned.
    let pointer: OpaquePointer

    /// What tests vary to build the weak peers the policy must refuse. Production code uses the defaults, which are
    /// ``TLSPolicy``.
    struct Settings {
        var minVersion = TLSPolicy.minVersion
        var maxVersion = TLSPolicy.maxVersion
        var tls12Ciphers = TLSPolicy.tls12Ciphers
        /// OpenSSL security level; nil keeps the system default (Debian: 2).
        var securityLevel: Int32?

        /// Protocol version numbers, for tests that cannot import OpenSSL.
        static let tls1_1 = TLS1_1_VERSION, tls1_2 = TLS1_2_VERSION, tls1_3 = TLS1_3_VERSION
    }

    private init(role: Role, pointer: OpaquePointer, serverName: String?, verifiesPeer: Bool) {
        self.role = role
        self.pointer = pointer
        self.serverName = serverName
        self.verifiesPeer = verifiesPeer
    }

    deinit { SSL_CTX_free(pointer) }

    /// A server context: loads a PEM certificate chain file (leaf first, then intermediates) and a PEM private key
    /// file, and checks that the key matches the leaf. An encrypted key is refused (never a password prompt).
    ///
    /// Throws with the path and OpenSSL's reason when a file is missing or unreadable, is not PEM, or the key does
    /// not match.
    public static func server(certificateChainPath: String, privateKeyPath: String) throws(TLSError) -> TLSContext {
        try server(certificateChainPath: certificateChainPath, privateKeyPath: privateKeyPath, settings: Settings())
    }

    /// A client context (tests and the load tool).
    ///
    /// - Parameters:
    ///   - trustedCAPath: a PEM file of trust anchors to verify the server's chain and name against; nil means the
    ///     server is not verified at all (testing only).
    ///   - serverName: sent as SNI (unless it is an IP address) and, when verifying, required to match the
    ///     certificate (DNS or IP subject alternative name).
    ///   - alpn: protocols to offer, in order of preference; empty offers none.
    public static func client(trustedCAPath: String?, serverName: String?,
                              alpn: [String] = ["http/1.1"]) throws(TLSError) -> TLSContext {
        try client(trustedCAPath: trustedCAPath, serverName: serverName, alpn: alpn, settings: Settings())
    }

    static func server(certificateChainPath: String, privateKeyPath: String,
                       settings: Settings) throws(TLSError) -> TLSContext {
        let context = try make(role: .server, settings: settings, serverName: nil, verifiesPeer: false)
        let ctx = context.pointer
        guard SSL_CTX_use_certificate_chain_file(ctx, certificateChainPath) == 1 else {
            throw .openSSLCallFailed("cannot load certificate chain from '\(certificateChainPath)'")
        }
        try context.loadPrivateKey(privateKeyPath, certificateChainPath: certificateChainPath)
        SSL_CTX_set_alpn_select_cb(ctx, { _, selected, selectedCount, offered, offeredCount, _ in
            guard let selected, let selectedCount, let offered else { return SSL_TLSEXT_ERR_NOACK }
            return ALPN.select(offered: offered, count: Int(offeredCount), selected: selected,
                               selectedCount: selectedCount)
        }, nil)
        return context
    }

    static func client(trustedCAPath: String?, serverName: String?, alpn: [String],
                       settings: Settings) throws(TLSError) -> TLSContext {
        let context = try make(role: .client, settings: settings, serverName: serverName,
                               verifiesPeer: trustedCAPath != nil)
        let ctx = context.pointer
        if let trustedCAPath {
            guard SSL_CTX_load_verify_locations(ctx, trustedCAPath, nil) == 1 else {
                throw .openSSLCallFailed("cannot load trusted certificates from '\(trustedCAPath)'")
            }
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
        } else {
            SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
        }
        if !alpn.isEmpty {
            guard let wire = ALPN.wire(alpn) else { throw TLSError("invalid ALPN protocol name in \(alpn)") }
            // Unlike most of OpenSSL, 0 means success here.
            guard SSL_CTX_set_alpn_protos(ctx, wire, UInt32(wire.count)) == 0 else {
                throw .openSSLCallFailed("cannot set ALPN protocols")
            }
        }
        return context
    }

    /// Loads the key and checks it against the leaf. A key file that needs a password is refused: the password
    /// callback answers nothing (a prompt on the terminal would block the loop) and notes that it was asked.
    private func loadPrivateKey(_ path: String, certificateChainPath: String) throws(TLSError) {
        var askedForPassword = false
        let loaded = withUnsafeMutablePointer(to: &askedForPassword) { asked in
            SSL_CTX_set_default_passwd_cb(pointer) { _, _, _, asked in
                asked?.assumingMemoryBound(to: Bool.self).pointee = true
                return 0
            }
            SSL_CTX_set_default_passwd_cb_userdata(pointer, asked)
            defer { SSL_CTX_set_default_passwd_cb_userdata(pointer, nil) }
            return SSL_CTX_use_PrivateKey_file(pointer, path, SSL_FILETYPE_PEM) == 1
        }
        let mismatch = "private key '\(path)' does not match certificate '\(certificateChainPath)'"
        if askedForPassword && !loaded {
            OpenSSLErrors.clear()
            throw TLSError("private key '\(path)' is encrypted: give an unencrypted key file, readable only by Circle")
        }
        guard loaded else {
            let reasons = OpenSSLErrors.drain()
            if reasons.contains(where: { $0.hasSuffix("key values mismatch") }) { throw TLSError(mismatch) }
            throw TLSError.joining("cannot load private key from '\(path)'", reasons)
        }
        // A key of another type (RSA key, ECDSA certificate) loads into its own slot and fails here.
        guard SSL_CTX_check_private_key(pointer) == 1 else {
            OpenSSLErrors.clear()
            throw TLSError(mismatch)
        }
    }

    /// A context with the policy applied and no credentials yet.
    private static func make(role: Role, settings: Settings, serverName: String?,
                             verifiesPeer: Bool) throws(TLSError) -> TLSContext {
        OpenSSLErrors.clear()
        guard let ctx = SSL_CTX_new(role == .server ? TLS_server_method() : TLS_client_method()) else {
            throw .openSSLCallFailed("cannot create TLS context")
        }
        let context = TLSContext(role: role, pointer: ctx, serverName: serverName, verifiesPeer: verifiesPeer)
        if let level = settings.securityLevel { SSL_CTX_set_security_level(ctx, level) }
        guard circle_SSL_CTX_set_min_proto_version(ctx, settings.minVersion) == 1,
              circle_SSL_CTX_set_max_proto_version(ctx, settings.maxVersion) == 1 else {
            throw .openSSLCallFailed("cannot set TLS protocol versions")
        }
        guard SSL_CTX_set_cipher_list(ctx, settings.tls12Ciphers) == 1,
              SSL_CTX_set_ciphersuites(ctx, TLSPolicy.tls13Suites) == 1 else {
            throw .openSSLCallFailed("cannot set TLS cipher suites")
        }
        guard circle_SSL_CTX_set1_groups_list(ctx, TLSPolicy.groups) == 1 else {
            throw .openSSLCallFailed("cannot set TLS key exchange groups")
        }
        _ = SSL_CTX_set_options(ctx, TLSPolicy.options)
        // No resumption: no session cache, no TLS 1.3 tickets sent after the handshake.
        circle_SSL_CTX_set_session_cache_mode(ctx, Int(SSL_SESS_CACHE_OFF))
        _ = SSL_CTX_set_num_tickets(ctx, 0)
        // An idle connection gives its 16 KiB read and write record buffers back.
        circle_SSL_CTX_set_mode(ctx, Int(SSL_MODE_RELEASE_BUFFERS))
        return context
    }
}
