import COpenSSL

/// The one TLS policy Circle serves (Docs/TLS.md): TLS 1.2 and 1.3, forward-secret AEAD suites only, ALPN
/// `http/1.1`, no compression, no renegotiation, no session resumption.
enum TLSPolicy {
    /// TLS 1.2: ECDHE key exchange with AES-GCM or ChaCha20-Poly1305, in the server's order of preference.
    static let tls12Ciphers = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")
    /// TLS 1.3 suites (all AEAD); set explicitly so that the system's openssl.cnf cannot change them.
    static let tls13Suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
    /// Key-exchange groups, best first.
    static let groups = "X25519:P-256:P-384"
    /// The only application protocol the server speaks.
    static let alpn = "http/1.1"
    /// The lowest and highest protocol versions.
    static let minVersion = TLS1_2_VERSION
    static let maxVersion = TLS1_3_VERSION

    /// Options set on every context: no compression (CRIME), no renegotiation (either side), the server's cipher
    /// order, and no session tickets (every connection does a full handshake; see Docs/TLS.md).
    static var options: UInt64 {
        circle_SSL_OP_NO_COMPRESSION() | circle_SSL_OP_NO_RENEGOTIATION()
            | circle_SSL_OP_CIPHER_SERVER_PREFERENCE() | circle_SSL_OP_NO_TICKET()
    }
}

/// ALPN (RFC 7301) wire lists: each protocol name prefixed by its one-byte length.
enum ALPN {
    private static let http11 = Array(TLSPolicy.alpn.utf8)

    /// The wire form of `protocols`, or nil when a name is empty or longer than 255 bytes.
    static func wire(_ protocols: [String]) -> [UInt8]? {
        var out: [UInt8] = []
        for name in protocols {
            let bytes = Array(name.utf8)
            guard (1...255).contains(bytes.count) else { return nil }
            out.append(UInt8(bytes.count))
            out.append(contentsOf: bytes)
        }
        return out
    }

    /// The server's choice from the client's list: `http/1.1` if offered, else none (the handshake goes on without
    /// ALPN). Points `selected` into `offered`, which OpenSSL copies.
    static func select(offered: UnsafePointer<UInt8>, count: Int,
                       selected: UnsafeMutablePointer<UnsafePointer<UInt8>?>,
                       selectedCount: UnsafeMutablePointer<UInt8>) -> Int32 {
        var i = 0
        while i < count {
            let length = Int(offered[i])
            let start = i + 1
            guard start + length <= count else { return SSL_TLSEXT_ERR_NOACK }
            if length == http11.count && (0..<length).allSatisfy({ offered[start + $0] == http11[$0] }) {
                selected.pointee = offered + start
                selectedCount.pointee = UInt8(length)
                return SSL_TLSEXT_ERR_OK
            }
            i = start + length
        }
        return SSL_TLSEXT_ERR_NOACK
    }
}
