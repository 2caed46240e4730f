import COpenSSL

/// One TLS connection: ciphertext from the socket in, plaintext for the codec out, ciphertext to send out.
///
/// Pure and non-blocking: no socket, no clock, no thread. Each call consumes all the ciphertext it is given (unless
/// the connection closes or fails during it), so nothing is buffered between calls but OpenSSL's own partial
/// record. Not thread-safe: a connection lives on one loop thread.
///
/// OpenSSL's record buffers are released whenever they are empty (`SSL_MODE_RELEASE_BUFFERS`; memory figures in
/// Docs/TLS.md) and OpenSSL caps what a hostile peer can make a connection hold; a stalled handshake is the
/// caller's timer's job.
public final class TLSConnection {
    /// The most application bytes ``send(_:output:)`` keeps while the handshake is running.
    public static let maxPendingPlaintext = 64 << 10

    /// The context this connection was made from; kept alive for as long as the connection.
    public let context: TLSContext
    /// The `SSL`, owned; it owns the BIO.
    private let ssl: OpaquePointer
    private let buffers: UnsafeMutablePointer<BIOBuffers>
    private var phase = Phase.handshaking
    /// Application bytes sent before the handshake completed; written as soon as it does.
    private var pendingPlaintext: [UInt8] = []
    private var closeSent = false

    private enum Phase {
        case handshaking
        case open
        /// The peer sent close_notify.
        case peerClosed
        case failed(TLSError)
    }

    /// A connection in the context's role: a server waits for a ClientHello, a client sends one on
    /// ``start(output:)`` (or on its first ``receive(_:plaintext:output:)``).
    public init(context: TLSContext) throws(TLSError) {
        OpenSSLErrors.clear()
        guard let ssl = SSL_new(context.pointer) else { throw .openSSLCallFailed("cannot create TLS connection") }
        let buffers = UnsafeMutablePointer<BIOBuffers>.allocate(capacity: 1)
        buffers.initialize(to: BIOBuffers())
        guard let bio = CallerBIO.make(over: buffers) else {
            SSL_free(ssl)
            buffers.deallocate()
            throw .openSSLCallFailed("cannot create TLS connection")
        }
        SSL_set_bio(ssl, bio, bio)
        self.context = context
        self.ssl = ssl
        self.buffers = buffers
        switch context.role {
        case .server:
            SSL_set_accept_state(ssl)
        case .client:
            SSL_set_connect_state(ssl)
            if let name = context.serverName {
                // SNI carries host names only (RFC 6066); SSL_set1_host checks a DNS or an IP address SAN.
                if !Self.isIPAddress(name) && circle_SSL_set_tlsext_host_name(ssl, name) != 1 {
                    throw .openSSLCallFailed("invalid server name")
                }
                if context.verifiesPeer && SSL_set1_host(ssl, name) != 1 {
                    throw .openSSLCallFailed("invalid server name")
                }
            }
        }
    }

    deinit {
        SSL_free(ssl)
        buffers.deinitialize(count: 1)
        buffers.deallocate()
    }

    /// Whether the handshake has completed (it stays true after a later close or failure).
    public private(set) var isHandshakeComplete = false

    /// The application protocol chosen by ALPN (`"http/1.1"`), or nil when none was negotiated.
    public var negotiatedProtocol: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// The negotiated protocol version (`"TLSv1.3"`, `"TLSv1.2"`), once the handshake is complete.
    public var protocolVersion: String? {
        isHandshakeComplete ? String(cString: SSL_get_version(ssl)) : nil
    }

    /// The negotiated cipher suite's OpenSSL name (`"TLS_AES_128_GCM_SHA256"`), once the handshake is complete.
    public var cipherSuite: String? {
        guard isHandshakeComplete, let cipher = SSL_get_current_cipher(ssl) else { return nil }
        return String(cString: SSL_CIPHER_get_name(cipher))
    }

    /// Client role: sends the ClientHello into `output`. Server role: does nothing (the client speaks first).
    /// Fails when this client's own settings admit no handshake, or with the failure that already ended the
    /// connection.
    @discardableResult
    public func start(output: inout [UInt8]) -> TLSResult {
        if case .failed(let error) = phase { return .failed(error) }
        guard context.role == .client, case .handshaking = phase else { return .ok }
        OpenSSLErrors.clear()
        return withBuffers(input: noInput, output: &output) { handshake() }
    }

    /// Ciphertext arrived from the socket: consumes all of it, appends decrypted application bytes to `plaintext`
    /// and the records that must be sent (handshake flights, alerts, key-update replies) to `output`.
    ///
    /// Returns `.closed` once the peer's close_notify is read (`plaintext` holds what came before it; later input is
    /// ignored), and `.failed` on any protocol error (`output` may hold an alert; send it, then close). After a
    /// failure every call returns the same failure.
    public func receive(_ ciphertext: UnsafeRawBufferPointer, plaintext: inout [UInt8],
                        output: inout [UInt8]) -> TLSResult {
        switch phase {
        case .failed(let error): return .failed(error)
        case .peerClosed: return .closed
        case .handshaking, .open: break
        }
        OpenSSLErrors.clear()
        return withBuffers(input: ciphertext, output: &output) {
            if case .handshaking = phase {
                let result = handshake()
                guard result == .ok, isHandshakeComplete else { return result }
            }
            return readAll(into: &plaintext)
        }
    }

    /// Encrypts application bytes and appends the records to `output`.
    ///
    /// Before the handshake completes the bytes are kept (up to ``maxPendingPlaintext``; beyond it the connection
    /// fails) and written into the `output` of the ``receive(_:plaintext:output:)`` call that completes it. Fails
    /// after ``shutdown(output:)`` or a failure.
    public func send(_ plaintext: UnsafeRawBufferPointer, output: inout [UInt8]) -> TLSResult {
        if closeSent { return .failed(TLSError("send after TLS shutdown")) }
        switch phase {
        case .failed(let error):
            return .failed(error)
        case .handshaking:
            guard pendingPlaintext.count + plaintext.count <= Self.maxPendingPlaintext else {
                let limit = Self.maxPendingPlaintext
                return fail(TLSError("more than \(limit) bytes sent before the TLS handshake completed"))
            }
            pendingPlaintext.append(contentsOf: plaintext)
            return .ok
        case .open, .peerClosed:
            guard !plaintext.isEmpty else { return .ok }
            OpenSSLErrors.clear()
            return withBuffers(input: noInput, output: &output) { write(plaintext) }
        }
    }

    /// Appends a close_notify alert to `output`, once; ``send(_:output:)`` fails afterwards while
    /// ``receive(_:plaintext:output:)`` still reads the peer's last bytes. Does nothing before the handshake has
    /// completed or after a failure: then just close the socket.
    public func shutdown(output: inout [UInt8]) {
        guard isHandshakeComplete, !closeSent else { return }
        switch phase {
        case .failed, .handshaking: return
        case .open, .peerClosed: break
        }
        closeSent = true
        OpenSSLErrors.clear()
        withBuffers(input: noInput, output: &output) { _ = SSL_shutdown(ssl) }
        OpenSSLErrors.clear()
    }

    // MARK: - Steps (run inside withBuffers)

    /// Drives the handshake as far as the input allows; on completion writes what was sent early.
    private func handshake() -> TLSResult {
        let rc = SSL_do_handshake(ssl)
        guard rc == 1 else { return settle(rc) }
        phase = .open
        isHandshakeComplete = true
        guard !pendingPlaintext.isEmpty else { return .ok }
        let early = pendingPlaintext
        pendingPlaintext = []
        return early.withUnsafeBytes { write($0) }
    }

    /// Reads records until the input is used up, appending their plaintext straight onto `plaintext`.
    private func readAll(into plaintext: inout [UInt8]) -> TLSResult {
        while true {
            // One record holds at most 16 KiB and no more plaintext than ciphertext; a short guess only costs
            // another turn (OpenSSL keeps the rest of the record as SSL_pending).
            let room = min(16 << 10, max(Int(SSL_pending(ssl)), buffers.pointee.input.count, 1))
            let start = plaintext.count
            plaintext.append(contentsOf: repeatElement(0, count: room))
            var count = 0
            let rc = plaintext.withUnsafeMutableBytes { SSL_read_ex(ssl, $0.baseAddress! + start, room, &count) }
            plaintext.removeLast(room - count)
            if rc != 1 { return settle(0) }
        }
    }

    private func write(_ bytes: UnsafeRawBufferPointer) -> TLSResult {
        var written = 0
        // The BIO takes every byte, so a write completes or fails; it never waits.
        guard SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &written) == 1 else {
            return fail(.openSSLCallFailed("TLS write failed"))
        }
        return .ok
    }

    /// What a call that did not return success means.
    private func settle(_ rc: Int32) -> TLSResult {
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ:
            return .ok
        case SSL_ERROR_ZERO_RETURN:
            phase = .peerClosed
            return .closed
        default:
            var context = isHandshakeComplete ? "TLS connection failed" : "TLS handshake failed"
            let verification = SSL_get_verify_result(ssl)
            if verification != X509_V_OK {
                context += " (certificate: \(String(cString: X509_verify_cert_error_string(verification))))"
            }
            return fail(.openSSLCallFailed(context))
        }
    }

    private func fail(_ error: TLSError) -> TLSResult {
        phase = .failed(error)
        pendingPlaintext = []
        return .failed(error)
    }

    /// Points the BIO at the caller's buffers for the duration of `body`.
    @discardableResult
    private func withBuffers<R>(input: UnsafeRawBufferPointer, output: inout [UInt8], _ body: () -> R) -> R {
        withUnsafeMutablePointer(to: &output) { output in
            buffers.pointee = BIOBuffers(input: input, output: output)
            defer { buffers.pointee = BIOBuffers() }
            return body()
        }
    }

    private var noInput: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }

    private static func isIPAddress(_ name: String) -> Bool {
        name.contains(":") || name.utf8.allSatisfy { $0 == UInt8(ascii: ".") || (0x30...0x39).contains($0) }
    }
}
