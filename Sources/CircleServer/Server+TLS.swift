import CircleLoop
import CircleTLS

/// An address a server listens on.
public struct ListeningAddress: Sendable {
    /// The bound address (with the real port when 0 was asked for).
    public let address: SocketAddress
    /// Whether connections accepted there speak TLS.
    public let isTLS: Bool
}

extension Server {
    /// The bound TLS addresses (empty without TLS).
    public var tlsAddresses: [SocketAddress] { listening.filter(\.isTLS).map(\.address) }

    /// Builds a new TLS context from the configured certificate and key files. On success new connections use it and
    /// existing ones keep theirs (each holds the context it was made from); on failure the current one stays and one
    /// error line says why (paths and OpenSSL's reason, never key material). Runs on SIGHUP.
    @discardableResult
    public func reloadTLS() -> Bool {
        guard let settings = configuration.tls else {
            logger.warning("tls reload ignored: TLS is not configured")
            return false
        }
        do {
            tlsContext = try Self.makeTLSContext(settings)
            logger.info("tls reloaded")
            return true
        } catch {
            logger.error("tls reload failed, keeping the current certificate", metadata: ["error": "\(error)"])
            return false
        }
    }

    static func makeTLSContext(_ settings: TLSSettings) throws(TLSError) -> TLSContext {
        try TLSContext.server(certificateChainPath: settings.certificateChainPath,
                              privateKeyPath: settings.privateKeyPath)
    }

    /// Puts a TLS layer from the current context between an accepted socket and its connection. On failure (no
    /// memory for the `SSL`) the socket is closed and false returned.
    func attachTLS(to tcp: TCPConnection, connectionID: UInt64) -> Bool {
        do {
            guard let context = tlsContext else { throw TLSError("no TLS context") }
            tcp.filter = TLSTransport(tls: try TLSConnection(context: context), server: self,
                                      connectionID: connectionID)
            return true
        } catch {
            logger.error("tls connection setup failed", metadata: ["error": "\(error)"])
            tcp.close()
            return false
        }
    }
}

extension Server {
    /// Loads the certificate chain and key as `start` would, without serving (`circle serve --check-config`).
    public static func checkTLS(_ settings: TLSSettings) throws(TLSError) {
        _ = try makeTLSContext(settings)
    }
}
