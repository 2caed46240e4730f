import CircleLoop
import CircleTLS

/// The client side of TLS on the loop: a `TLSConnection` in the client role as a socket's transport filter. The
/// ClientHello goes out with the first write. Used by the load client (`--tls`) and the tests.
public final class TLSClientFilter: TransportFilter {
    public let tls: TLSConnection
    private var started = false
    /// Why the connection failed (e.g. the server's certificate is not trusted), if it did.
    public private(set) var failure: String?
    /// Whether the server's close_notify arrived.
    public private(set) var peerClosed = false

    /// A filter from a client context (build one context and share it across connections).
    public init(context: TLSContext) throws(TLSError) {
        tls = try TLSConnection(context: context)
    }

    public func inbound(_ bytes: UnsafeRawBufferPointer, plaintext: inout [UInt8],
                        output: inout [UInt8]) -> TransportFilterResult {
        switch tls.receive(bytes, plaintext: &plaintext, output: &output) {
        case .ok: return .ok
        case .closed: peerClosed = true; return .closed
        case .failed(let error): failure = error.message; return .failed
        }
    }

    public func outbound(_ plaintext: UnsafeRawBufferPointer, output: inout [UInt8]) -> Bool {
        if !started {
            started = true
            if case .failed(let error) = tls.start(output: &output) { failure = error.message; return false }
        }
        if case .failed(let error) = tls.send(plaintext, output: &output) { failure = error.message; return false }
        return true
    }

    public func close(output: inout [UInt8]) { tls.shutdown(output: &output) }
}
