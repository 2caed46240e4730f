import CircleLoop
import CircleTLS

/// The TLS layer of one accepted connection: a `TLSConnection` as the socket's transport filter.
///
/// Counts completed and failed handshakes on the server and logs failures at debug level with the connection id
/// only (a failed handshake is usually a scanner or a plain-text client, not news).
final class TLSTransport: TransportFilter {
    private let tls: TLSConnection
    private unowned let server: Server
    private let connectionID: UInt64
    private var handshakeCounted = false

    init(tls: TLSConnection, server: Server, connectionID: UInt64) {
        self.tls = tls
        self.server = server
        self.connectionID = connectionID
    }

    func inbound(_ bytes: UnsafeRawBufferPointer, plaintext: inout [UInt8],
                 output: inout [UInt8]) -> TransportFilterResult {
        let result = tls.receive(bytes, plaintext: &plaintext, output: &output)
        if !handshakeCounted && tls.isHandshakeComplete {
            handshakeCounted = true
            server.tlsHandshakes += 1
            server.metrics?.tlsHandshakes.increment()
        }
        switch result {
        case .ok:
            return .ok
        case .closed:
            return .closed
        case .failed:
            if tls.isHandshakeComplete {
                server.logger.debug("tls connection failed", metadata: ["conn": "\(connectionID)"])
            } else {
                server.tlsHandshakeFailures += 1
                server.metrics?.tlsHandshakeFailures.increment()
                server.logger.debug("tls handshake failed", metadata: ["conn": "\(connectionID)"])
            }
            return .failed
        }
    }

    func outbound(_ plaintext: UnsafeRawBufferPointer, output: inout [UInt8]) -> Bool {
        if case .failed = tls.send(plaintext, output: &output) { return false }
        return true
    }

    func close(output: inout [UInt8]) {
        tls.shutdown(output: &output)
    }
}
