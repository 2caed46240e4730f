@testable import CircleTLS

/// A client and a server connection wired back to back in memory: what each sends is held until `pump` delivers it.
final class TLSPair {
    let client: TLSConnection
    let server: TLSConnection
    /// Ciphertext in flight, not yet delivered.
    var toServer: [UInt8] = []
    var toClient: [UInt8] = []
    /// Plaintext each side has received.
    var serverReceived: [UInt8] = []
    var clientReceived: [UInt8] = []
    /// The latest result of each side's `receive`.
    var serverResult = TLSResult.ok
    var clientResult = TLSResult.ok

    init(client: TLSContext, server: TLSContext) throws {
        self.client = try TLSConnection(context: client)
        self.server = try TLSConnection(context: server)
    }

    /// The default pair: a verifying client for `localhost` and a server with the P-256 chain.
    convenience init(clientSettings: TLSContext.Settings = .init(), alpn: [String] = ["http/1.1"]) throws {
        let certificates = try Certificates.shared()
        try self.init(client: .client(trustedCAPath: certificates.root, serverName: "localhost", alpn: alpn,
                                      settings: clientSettings),
                      server: .server(certificateChainPath: certificates.chain, privateKeyPath: certificates.leafKey))
    }

    /// Starts the client and pumps until both sides are quiet.
    func handshake(chunk: Int = .max) {
        client.start(output: &toServer)
        pump(chunk: chunk)
    }

    /// Delivers bytes both ways, `chunk` bytes per `receive` call, until neither side has anything to send.
    func pump(chunk: Int = .max) {
        var rounds = 0
        while !(toServer.isEmpty && toClient.isEmpty) {
            rounds += 1
            precondition(rounds < 1000, "the peers keep talking")
            let forServer = toServer
            toServer = []
            deliver(forServer, to: server, chunk: chunk, plaintext: &serverReceived, reply: &toClient,
                    result: &serverResult)
            let forClient = toClient
            toClient = []
            deliver(forClient, to: client, chunk: chunk, plaintext: &clientReceived, reply: &toServer,
                    result: &clientResult)
        }
    }

    /// Sends `bytes` from the client to the server, pumping.
    func clientSends(_ bytes: [UInt8], chunk: Int = .max) -> TLSResult {
        let result = bytes.withUnsafeBytes { client.send($0, output: &toServer) }
        pump(chunk: chunk)
        return result
    }

    /// Sends `bytes` from the server to the client, pumping.
    func serverSends(_ bytes: [UInt8], chunk: Int = .max) -> TLSResult {
        let result = bytes.withUnsafeBytes { server.send($0, output: &toClient) }
        pump(chunk: chunk)
        return result
    }

    private func deliver(_ bytes: [UInt8], to connection: TLSConnection, chunk: Int, plaintext: inout [UInt8],
                         reply: inout [UInt8], result: inout TLSResult) {
        var offset = 0
        while offset < bytes.count {
            let end = bytes.count - offset > chunk ? offset + chunk : bytes.count
            result = bytes[offset..<end].withUnsafeBytes {
                connection.receive($0, plaintext: &plaintext, output: &reply)
            }
            offset = end
        }
    }
}

/// The failure's message, or nil for any other result.
func failure(_ result: TLSResult) -> String? {
    if case .failed(let error) = result { return error.message }
    return nil
}

/// Deterministic bytes of any length (a xorshift stream).
func pattern(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return UInt8(truncatingIfNeeded: state)
    }
}

extension TLSContext.Settings {
    /// A client limited to TLS 1.2.
    static var tls12Only: Self {
        var settings = Self()
        settings.maxVersion = Self.tls1_2
        return settings
    }
}
