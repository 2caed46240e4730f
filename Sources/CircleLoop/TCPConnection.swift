import CLibUV

/// What a connection tells its owner. Both calls happen on the loop thread.
public protocol TCPConnectionDelegate: AnyObject {
    /// Bytes arrived. They are only valid during the call (they live in the loop's shared read buffer).
    func connection(_ connection: TCPConnection, didRead bytes: UnsafeRawBufferPointer)
    /// The connection is closed and its memory released; nothing more will be called. `error` is nil for an orderly
    /// close (ours or the peer's EOF).
    func connectionDidClose(_ connection: TCPConnection, error: LoopError?)
}

/// One TCP socket on a loop.
///
/// Writes are queued, not sent: bytes queued during a loop turn go out in one `write` in that turn's prepare or check
/// phase (write coalescing), or sooner once they have waited ``EventLoop/flushAfterNanoseconds`` in a busy turn.
/// The first attempt is a non-blocking `uv_try_write` straight from the queue; whatever the kernel doesn't take
/// moves to an in-flight buffer owned by one `uv_write`. The queue is bounded by `maxQueuedBytes`: `write` refuses
/// bytes beyond it so that the owner can apply its slow-consumer policy.
///
/// With a ``filter`` (TLS), reads are decoded before the delegate sees them, and the plaintext queued during a turn
/// is encoded in one piece at flush time, so that one turn still makes one write.
///
/// Lifetime: the connection keeps itself alive while its handle is open; after the close callback it tells the
/// delegate, drops the delegate (breaking the owner ↔ connection cycle) and releases itself.
public final class TCPConnection {
    let handle: UnsafeMutablePointer<uv_tcp_t>
    public let loop: EventLoop
    /// The owner; held strongly until the connection closes.
    public var delegate: TCPConnectionDelegate?
    /// The most bytes that may wait to be written (queued plus in flight).
    public var maxQueuedBytes = 4 << 20
    /// Encodes and decodes the bytes between the socket and the delegate (TLS). Set it before the first read or write.
    public var filter: (any TransportFilter)? {
        willSet {
            precondition(newValue == nil || (queuedBytes == 0 && !flags.contains(.reading)), "filter set after I/O")
        }
    }

    private var selfRetain: Unmanaged<TCPConnection>?
    /// Bytes queued this turn: with a filter, plaintext not yet encoded.
    private var pending = ByteQueue()
    /// What only some connections ever need (a partial write, TLS output, a close), made on first use by
    /// ``uncommonState``: an idle connection holds none.
    private var uncommon: UncommonState?
    private var flags: Flags = []

    /// The state of a connection's uncommon paths: backed-up writes, filter output and closing.
    private final class UncommonState {
        /// With a filter: encoded bytes waiting for the socket (handshake flights and alerts made while reading).
        var sealed = ByteQueue()
        var inflight = ByteQueue()
        var inflightOffset = 0
        var writeRequest: UnsafeMutablePointer<uv_write_t>?
        var shutdownRequest: UnsafeMutablePointer<uv_shutdown_t>?
        var drainTimer: LoopTimer?
        var closeError: LoopError?
        /// Bytes to queue once the write in flight completes (``writeAfterBacklog(_:)``).
        var held: [UInt8]?

        var queuedBytes: Int { sealed.count + inflight.count - inflightOffset }
    }

    /// ``uncommon``, made if it isn't yet.
    private var uncommonState: UncommonState {
        if let uncommon { return uncommon }
        let made = UncommonState()
        uncommon = made
        return made
    }

    private struct Flags: OptionSet {
        let rawValue: UInt16
        static let dirty = Flags(rawValue: 1)
        static let writing = Flags(rawValue: 2)
        static let reading = Flags(rawValue: 4)
        static let finishing = Flags(rawValue: 8)   // flush, FIN, then close
        static let shutdownSent = Flags(rawValue: 16)
        static let eof = Flags(rawValue: 32)
        static let closing = Flags(rawValue: 64)
        static let filterDone = Flags(rawValue: 128)  // the filter's farewell is queued, or the filter failed
    }

    init(loop: EventLoop) {
        self.loop = loop
        handle = .allocate(capacity: 1)
        uv_tcp_init(loop.uv, handle)
        selfRetain = Unmanaged.passRetained(self)
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    /// Connects to `host:port` (client role: tests and the load tool).
    public static func connect(loop: EventLoop, host: String, port: Int,
                               _ completion: @escaping (Result<TCPConnection, LoopError>) -> Void) {
        let connection = TCPConnection(loop: loop)
        let address: SocketAddress
        do { address = try SocketAddress(host: host, port: port) } catch {
            connection.close()
            completion(.failure(error))
            return
        }
        final class Pending {
            let connection: TCPConnection
            let completion: (Result<TCPConnection, LoopError>) -> Void
            init(_ c: TCPConnection, _ f: @escaping (Result<TCPConnection, LoopError>) -> Void) {
                connection = c
                completion = f
            }
        }
        let request = UnsafeMutablePointer<uv_connect_t>.allocate(capacity: 1)
        request.pointee.data = Unmanaged.passRetained(Pending(connection, completion)).toOpaque()
        let rc = address.withSockaddr { uv_tcp_connect(request, connection.handle, $0) { req, status in
            let pending = Unmanaged<Pending>.fromOpaque(req!.pointee.data).takeRetainedValue()
            req!.deallocate()
            if status < 0 {
                pending.connection.close()
                pending.completion(.failure(LoopError(status, "connect")))
            } else {
                uv_tcp_nodelay(pending.connection.handle, 1)
                pending.completion(.success(pending.connection))
            }
        } }
        if rc < 0 {
            Unmanaged<Pending>.fromOpaque(request.pointee.data).release()
            request.deallocate()
            connection.close()
            completion(.failure(LoopError(rc, "connect")))
        }
    }

    /// Whether the handle is closed or closing.
    public var isClosed: Bool { flags.contains(.closing) }

    /// Bytes queued or in flight.
    public var queuedBytes: Int { pending.count + (uncommon?.queuedBytes ?? 0) }

    /// The peer's address, if still known.
    public var peerAddress: SocketAddress? {
        guard !isClosed else { return nil }
        var storage = sockaddr_storage()
        var len = Int32(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            uv_tcp_getpeername(handle, UnsafeMutablePointer<sockaddr>(OpaquePointer($0)), &len)
        }
        return rc == 0 ? SocketAddress(storage: storage) : nil
    }

    /// Starts delivering reads to the delegate.
    public func startReading() {
        guard !flags.contains(.closing), !flags.contains(.reading) else { return }
        let rc = uv_read_start(asStream(handle), { h, _, buf in
            let loop = Unmanaged<TCPConnection>.fromOpaque(h!.pointee.data).takeUnretainedValue().loop
            let base = loop.readBuffer.assumingMemoryBound(to: CChar.self)
            buf!.pointee = uv_buf_init(base, UInt32(loop.readBufferSize))
        }, { s, nread, buf in
            let c = Unmanaged<TCPConnection>.fromOpaque(s!.pointee.data).takeUnretainedValue()
            c.didRead(nread, buf!.pointee.base)
        })
        if rc < 0 { fail(LoopError(rc, "read_start")) } else { flags.insert(.reading) }
    }

    /// Stops delivering reads (back-pressure); `startReading` resumes.
    public func stopReading() {
        guard flags.contains(.reading), !flags.contains(.closing) else { return }
        uv_read_stop(asStream(handle))
        flags.remove(.reading)
    }

    private func didRead(_ nread: Int, _ base: UnsafeMutablePointer<CChar>?) {
        if nread > 0 {
            if flags.contains(.finishing) { return }  // draining towards close: input is no longer wanted
            let bytes = UnsafeRawBufferPointer(start: base, count: nread)
            if let filter { readFiltered(bytes, through: filter) } else { delegate?.connection(self, didRead: bytes) }
            loop.didHandleRead()
        } else if nread == Int(UV_EOF.rawValue) {
            peerFinished()
        } else if nread < 0 {
            fail(LoopError(Int32(nread), "read"))
        }
    }

    /// The peer will send nothing more (TCP EOF, or the filter's close): finish our side, or close if it is done.
    private func peerFinished() {
        flags.insert(.eof)
        if flags.contains(.shutdownSent) { close() } else { finish() }
    }

    /// Queues bytes for the end of this loop turn. Returns false, queuing nothing, when the connection is closing
    /// or the bytes would take the queue past `maxQueuedBytes`.
    @discardableResult
    public func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard flags.isDisjoint(with: [.closing, .shutdownSent, .filterDone]) else { return false }
        guard queuedBytes + bytes.count <= maxQueuedBytes else { return false }
        pending.append(bytes, pool: &loop.buffers)
        markDirty()
        return true
    }

    private func markDirty() {
        if !flags.contains(.dirty) {
            flags.insert(.dirty)
            loop.markDirty(self)
        }
    }

    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { write($0) }
    }

    /// Whether earlier bytes are still waiting for the kernel: the peer reads slower than we write.
    public var isBackedUp: Bool { flags.contains(.writing) }

    /// Queues `bytes` once the write in flight completes, replacing whatever an earlier call held: at most one such
    /// write waits, whatever the peer sends meanwhile. Writes at once when nothing is in flight.
    public func writeAfterBacklog(_ bytes: [UInt8]) {
        guard isBackedUp else { return _ = write(bytes) }
        uncommonState.held = bytes
    }

    /// Writes what is queued: called by the loop in its prepare/check phase.
    func flush() {
        flags.remove(.dirty)
        guard !flags.contains(.closing), !flags.contains(.writing) else { return }
        if let filter { return flushFiltered(through: filter) }
        if pending.count > 0 {
            var buf = uv_buf_init(pending.base!.assumingMemoryBound(to: CChar.self), UInt32(pending.count))
            let n = Int(uv_try_write(asStream(handle), &buf, 1))
            if n == pending.count {
                pending.release(to: &loop.buffers)
            } else if n < 0 && n != Int(UV_EAGAIN.rawValue) {
                fail(LoopError(Int32(n), "write"))
                return
            } else {
                // The kernel took part (or none): the rest goes out through one uv_write.
                let state = uncommonState
                swap(&pending, &state.inflight)
                state.inflightOffset = max(n, 0)
                return writeInflight()
            }
        }
        if flags.contains(.finishing) && !flags.contains(.shutdownSent) { sendShutdown() }
    }

    /// Starts one `uv_write` of what is in flight, from `inflightOffset`.
    private func writeInflight() {
        let state = uncommonState
        if state.writeRequest == nil {
            state.writeRequest = .allocate(capacity: 1)
            state.writeRequest!.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        }
        var rest = uv_buf_init((state.inflight.base! + state.inflightOffset).assumingMemoryBound(to: CChar.self),
                               UInt32(state.inflight.count - state.inflightOffset))
        let rc = uv_write(state.writeRequest, asStream(handle), &rest, 1) { req, status in
            Unmanaged<TCPConnection>.fromOpaque(req!.pointee.data).takeUnretainedValue().didWrite(status)
        }
        if rc < 0 { fail(LoopError(rc, "write")); return }
        flags.insert(.writing)
    }

    private func didWrite(_ status: Int32) {
        flags.remove(.writing)
        if let uncommon {
            uncommon.inflight.release(to: &loop.buffers)
            uncommon.inflightOffset = 0
        }
        if status == UV_ECANCELED.rawValue { return }  // closing
        if status < 0 { fail(LoopError(status, "write")); return }
        if let held = uncommon?.held {
            uncommon?.held = nil
            write(held)
        }
        flush()
    }

    /// Flushes what is queued, sends FIN, waits up to `timeoutMilliseconds` for the peer's EOF, then closes.
    /// Input arriving meanwhile is discarded. Used after a WebSocket close handshake and for HTTP error responses.
    /// With a filter, its farewell (TLS close_notify) follows the last queued bytes, before the FIN.
    public func finish(timeoutMilliseconds: UInt64 = 2000) {
        guard !flags.contains(.closing), !flags.contains(.finishing) else { return }
        flags.insert(.finishing)
        if !flags.contains(.reading) { startReading() }  // to see the peer's EOF
        let timer = LoopTimer(loop: loop)
        uncommonState.drainTimer = timer
        timer.start(afterMilliseconds: timeoutMilliseconds) { [unowned self] in self.close() }
        if !flags.contains(.writing) && !flags.contains(.dirty) { flush() }
    }

    private func sendShutdown() {
        flags.insert(.shutdownSent)
        let request = UnsafeMutablePointer<uv_shutdown_t>.allocate(capacity: 1)
        uncommonState.shutdownRequest = request
        request.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        let rc = uv_shutdown(request, asStream(handle)) { req, status in
            let c = Unmanaged<TCPConnection>.fromOpaque(req!.pointee.data).takeUnretainedValue()
            c.uncommon?.shutdownRequest = nil
            req!.deallocate()
            if status == UV_ECANCELED.rawValue { return }
            if status < 0 || c.flags.contains(.eof) { c.close() }
        }
        if rc < 0 {
            uncommon?.shutdownRequest = nil
            request.deallocate()
            close()
        }
    }

    private func fail(_ error: LoopError) {
        if uncommon?.closeError == nil { uncommonState.closeError = error }
        close()
    }

    /// Closes now; queued bytes are dropped. Idempotent.
    public func close() {
        guard !flags.contains(.closing) else { return }
        flags.insert(.closing)
        uncommon?.drainTimer?.close()
        uncommon?.drainTimer = nil
        uv_close(asHandle(handle)) { h in
            Unmanaged<TCPConnection>.fromOpaque(h!.pointee.data).takeUnretainedValue().didClose()
        }
    }

    private func didClose() {
        // Pending write and shutdown callbacks have run (with UV_ECANCELED) before this one.
        pending.release(to: &loop.buffers)
        if let uncommon {
            uncommon.sealed.release(to: &loop.buffers)
            uncommon.inflight.release(to: &loop.buffers)
            uncommon.writeRequest?.deallocate()
            uncommon.writeRequest = nil
        }
        filter = nil
        handle.deallocate()
        let delegate = self.delegate
        self.delegate = nil
        delegate?.connectionDidClose(self, error: uncommon?.closeError)
        selfRetain?.release()
        selfRetain = nil
    }
}

// MARK: - Filtered connections (TLS)

extension TCPConnection {
    /// Decodes a read: plaintext goes to the delegate; bytes the filter must send back are queued for this turn.
    private func readFiltered(_ bytes: UnsafeRawBufferPointer, through filter: any TransportFilter) {
        var plaintext = loop.scratch.borrow()
        var output = loop.scratch.borrow()
        defer {
            loop.scratch.giveBack(&plaintext)
            loop.scratch.giveBack(&output)
        }
        let result = filter.inbound(bytes, plaintext: &plaintext, output: &output)
        if !output.isEmpty {
            // Made before anything the delegate writes in answer, so it goes out first.
            let state = uncommonState
            output.withUnsafeBytes { state.sealed.append($0, pool: &loop.buffers) }
            markDirty()
        }
        if !plaintext.isEmpty, !flags.contains(.closing) {
            plaintext.withUnsafeBytes { delegate?.connection(self, didRead: $0) }
        }
        switch result {
        case .ok: break
        case .closed: peerFinished()
        case .failed:
            flags.insert(.filterDone)  // no farewell from a failed filter: its output (an alert) is the last word
            finish()
        }
    }

    /// Encodes the turn's plaintext in one call after the records already made, adds the filter's farewell when
    /// finishing, and writes the lot with one `uv_try_write`; what the kernel doesn't take goes through one
    /// `uv_write`.
    private func flushFiltered(through filter: any TransportFilter) {
        var out = loop.scratch.borrow()
        defer { loop.scratch.giveBack(&out) }
        if let uncommon, uncommon.sealed.count > 0 {
            out.append(contentsOf: UnsafeRawBufferPointer(start: uncommon.sealed.base, count: uncommon.sealed.count))
            uncommon.sealed.release(to: &loop.buffers)
        }
        var refused = false
        if pending.count > 0 {
            refused = !filter.outbound(UnsafeRawBufferPointer(start: pending.base, count: pending.count), output: &out)
            pending.release(to: &loop.buffers)
            if refused { flags.insert(.filterDone) }
        }
        if flags.contains(.finishing) && !flags.contains(.filterDone) {
            flags.insert(.filterDone)
            filter.close(output: &out)
        }
        if !out.isEmpty {
            let n = out.withUnsafeMutableBytes { bytes in
                var buf = uv_buf_init(bytes.baseAddress!.assumingMemoryBound(to: CChar.self), UInt32(bytes.count))
                return Int(uv_try_write(asStream(handle), &buf, 1))
            }
            if n < 0 && n != Int(UV_EAGAIN.rawValue) {
                fail(LoopError(Int32(n), "write"))
                return
            }
            if n < out.count {
                let state = uncommonState
                out[max(n, 0)...].withUnsafeBytes { state.inflight.append($0, pool: &loop.buffers) }
                state.inflightOffset = 0
                writeInflight()
                if refused { finish() }
                return
            }
        }
        // The filter can send no more: what it has produced is out; FIN and close.
        if refused { return finish() }
        if flags.contains(.finishing) && !flags.contains(.shutdownSent) { sendShutdown() }
    }
}
