/// What a ``TransportFilter`` made of bytes read from the socket.
public enum TransportFilterResult: Sendable, Equatable {
    /// Fine; keep reading.
    case ok
    /// The peer ended its stream inside the filter's protocol (TLS close_notify): no more input will come.
    case closed
    /// The filter failed for good (a failed TLS handshake, a bad record). `output` may hold a last message for the
    /// peer (an alert); the connection sends it, then FIN, then closes.
    case failed
}

/// A byte transform between the socket and the connection's delegate: TLS, in practice.
///
/// The loop shell knows nothing of what the filter does; `CircleLoop` does not import TLS. A ``TCPConnection`` with a
/// filter passes every read through ``inbound(_:plaintext:output:)`` before its delegate sees it, and at flush time
/// passes the whole plaintext queued during the loop turn through ``outbound(_:output:)`` in one call — one turn,
/// one batch of records, one write. ``close(output:)`` runs once, when the connection finishes, before the FIN.
///
/// Every call appends to the buffers it is given (loop-owned scratch buffers, reused across connections) and never
/// blocks. A filter belongs to one connection on one loop thread.
public protocol TransportFilter: AnyObject {
    /// Bytes read from the socket: appends what they decode to for the delegate to `plaintext`, and bytes that must
    /// go back to the peer (handshake flights, alerts) to `output`.
    func inbound(_ bytes: UnsafeRawBufferPointer, plaintext: inout [UInt8], output: inout [UInt8])
        -> TransportFilterResult
    /// Plaintext the connection is sending: appends the bytes for the socket to `output`. Returns false when the
    /// filter cannot send any more (it has failed or been closed); the plaintext is then dropped.
    func outbound(_ plaintext: UnsafeRawBufferPointer, output: inout [UInt8]) -> Bool
    /// The connection is finishing: appends the filter's farewell (TLS close_notify), if any, to `output`.
    func close(output: inout [UInt8])
}

/// A few byte arrays lent to filtered connections for the length of one call, so that decrypting a read or sealing a
/// turn's writes allocates nothing in steady state. Borrowed and returned (not held), so reentrant use is safe.
struct ScratchBuffers {
    private var spare: [[UInt8]] = []
    /// Larger buffers are freed on return rather than kept: one 16 MiB echo must not pin 16 MiB per loop.
    private static let keptCapacity = 256 << 10
    private static let keptCount = 4

    mutating func borrow() -> [UInt8] { spare.popLast() ?? [] }

    mutating func giveBack(_ buffer: inout [UInt8]) {
        guard buffer.capacity <= Self.keptCapacity, spare.count < Self.keptCount else { buffer = []; return }
        buffer.removeAll(keepingCapacity: true)
        spare.append(buffer)
        buffer = []
    }
}
