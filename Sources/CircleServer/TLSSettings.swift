/// Where the server's TLS certificate and key live. The files are read at start and again on every reload
/// (SIGHUP, ``Server/reloadTLS()``).
public struct TLSSettings: Sendable, Equatable {
    /// PEM certificate chain: the leaf first, then intermediates (not the root).
    public var certificateChainPath: String
    /// PEM private key (ECDSA or RSA, unencrypted) matching the leaf.
    public var privateKeyPath: String

    /// Settings for these two files.
    public init(certificateChainPath: String, privateKeyPath: String) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
    }
}

extension ServerConfiguration {
    /// One port to listen on (on every host) and whether it serves TLS.
    struct ListenerPlan: Equatable {
        var port: Int
        var isTLS: Bool
    }

    /// The listeners to open, plain first: `port` alone without TLS; `port` as TLS with TLS and no `tlsPort`;
    /// `port` plain and `tlsPort` TLS with both.
    var listenerPlan: [ListenerPlan] {
        guard tls != nil else { return [ListenerPlan(port: port, isTLS: false)] }
        guard let tlsPort else { return [ListenerPlan(port: port, isTLS: true)] }
        return [ListenerPlan(port: port, isTLS: false), ListenerPlan(port: tlsPort, isTLS: true)]
    }
}
