import CLibUV

/// Errors from libuv, carrying the negative `UV_E*` code.
public struct LoopError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The libuv error code (negative errno on Unix).
    public let code: Int32
    /// What was being done when it failed.
    public let operation: String

    public init(_ code: Int32, _ operation: String) {
        self.code = code
        self.operation = operation
    }

    /// libuv's short name for the code, e.g. `EADDRINUSE`.
    public var name: String { String(cString: uv_err_name(code)) }

    public var description: String { "\(operation): \(name) (\(String(cString: uv_strerror(code))))" }
}

@inline(__always)
func uvCheck(_ rc: Int32, _ operation: @autoclosure () -> String) throws(LoopError) {
    if rc < 0 { throw LoopError(rc, operation()) }
}

/// One libuv loop, run by exactly one thread. Owns the write-coalescing machinery: bytes queued for a connection
/// during a loop turn are flushed in one `write`/`writev` in the prepare or check phase of the same turn.
public final class EventLoop {
    let uv: UnsafeMutablePointer<uv_loop_t>
    private let prepare: UnsafeMutablePointer<uv_prepare_t>
    private let checkHandle: UnsafeMutablePointer<uv_check_t>
    /// Connections with bytes queued this turn.
    private var dirty: [TCPConnection] = []
    private var flushing: [TCPConnection] = []
    /// When the oldest write not yet flushed was queued (`hrtime`), valid while `dirty` is not empty.
    private var dirtySince: UInt64 = 0

    /// How long a queued write may wait for the rest of a busy turn, in nanoseconds; 0 waits for the end of the turn.
    /// One turn may read up to 1024 sockets: after each read, writes that have waited this long are flushed.
    /// 500 µs is half the 1 ms p99 budget; lower bounds cost fan-out throughput (Docs/PERFORMANCE.md).
    public var flushAfterNanoseconds: UInt64 = 500_000
    private var closed = false
    /// One read buffer shared by every connection on this loop: reads are consumed synchronously in the read
    /// callback, so an idle connection holds no read buffer at all.
    let readBuffer: UnsafeMutableRawPointer
    let readBufferSize = 64 * 1024
    /// Buffers lent to filtered (TLS) connections while they decrypt a read or seal a turn's writes.
    var scratch = ScratchBuffers()
    /// Write buffers lent to connections' queues while they hold bytes.
    var buffers = BufferPool()

    public init() throws(LoopError) {
        uv = .allocate(capacity: 1)
        try uvCheck(uv_loop_init(uv), "uv_loop_init")
        readBuffer = .allocate(byteCount: readBufferSize, alignment: 16)
        prepare = .allocate(capacity: 1)
        checkHandle = .allocate(capacity: 1)
        uv_prepare_init(uv, prepare)
        uv_check_init(uv, checkHandle)
        let me = Unmanaged.passUnretained(self).toOpaque()
        uv.pointee.data = me
        prepare.pointee.data = me
        checkHandle.pointee.data = me
        // Both phases flush: writes queued by timers flush before polling, writes queued by I/O callbacks right after.
        uv_prepare_start(prepare) { h in EventLoop.from(h!.pointee.data).flushDirty() }
        uv_check_start(checkHandle) { h in EventLoop.from(h!.pointee.data).flushDirty() }
        // These two handles must not keep the loop alive on their own.
        uv_unref(UnsafeMutablePointer<uv_handle_t>(OpaquePointer(prepare)))
        uv_unref(UnsafeMutablePointer<uv_handle_t>(OpaquePointer(checkHandle)))
    }

    static func from(_ p: UnsafeMutableRawPointer?) -> EventLoop {
        Unmanaged<EventLoop>.fromOpaque(p!).takeUnretainedValue()
    }

    /// Runs until there is nothing left to do or `stop()` is called.
    public func run() { uv_run(uv, UV_RUN_DEFAULT) }

    /// Runs one turn; with `wait == false` it doesn't block. Returns whether there is more to do.
    @discardableResult
    public func runOnce(wait: Bool = true) -> Bool { uv_run(uv, wait ? UV_RUN_ONCE : UV_RUN_NOWAIT) != 0 }

    /// Makes `run()` return after the current turn.
    public func stop() { uv_stop(uv) }

    /// The loop's cached monotonic time in milliseconds (updated at the start of each turn).
    public var nowMilliseconds: UInt64 { uv_now(uv) }

    /// The raw `uv_loop_t *`, for C libraries with a libuv adapter (hiredis) that must ride this loop's thread.
    public var rawLoopPointer: UnsafeMutableRawPointer { UnsafeMutableRawPointer(uv) }

    /// High-resolution monotonic time in nanoseconds.
    public static var hrtime: UInt64 { uv_hrtime() }

    /// Wall-clock time in nanoseconds since the Unix epoch: for what outlives the process (records, snapshots).
    public static var wallNanoseconds: Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Number of handles still open that keep the loop alive (active and referenced).
    public var aliveHandles: Int {
        var count = 0
        uv_walk(uv, { h, arg in
            if uv_is_closing(h) == 0 && uv_has_ref(h) != 0 {
                arg!.assumingMemoryBound(to: Int.self).pointee += 1
            }
        }, &count)
        return count
    }

    func markDirty(_ connection: TCPConnection) {
        if dirty.isEmpty { dirtySince = uv_hrtime() }
        dirty.append(connection)
    }

    /// A read has been handed to its delegate: flushes the dirty connections when the oldest queued write has
    /// waited `flushAfterNanoseconds`.
    @inline(__always)
    func didHandleRead() {
        if flushAfterNanoseconds > 0 && !dirty.isEmpty && uv_hrtime() &- dirtySince >= flushAfterNanoseconds {
            flushDirty()
        }
    }

    /// Writes out everything queued during this turn: one write (or writev) per connection.
    public func flushDirty() {
        guard !dirty.isEmpty else { return }
        // Flushing may mark more connections dirty (never the same ones); loop until quiet.
        while !dirty.isEmpty {
            swap(&dirty, &flushing)  // two arrays reused turn after turn: no allocation per turn
            for c in flushing { c.flush() }
            flushing.removeAll(keepingCapacity: true)
        }
    }

    /// Closes the loop's own handles, runs the loop until every handle's close callback has run, and closes the
    /// loop. Returns libuv's result: 0 when no handle was left behind, `UV_EBUSY` when another handle is still open.
    @discardableResult
    public func close() -> Int32 {
        guard !closed else { return 0 }
        closed = true
        flushDirty()
        uv_close(UnsafeMutablePointer<uv_handle_t>(OpaquePointer(prepare))) { h in
            UnsafeMutablePointer<uv_prepare_t>(OpaquePointer(h!)).deallocate()
        }
        uv_close(UnsafeMutablePointer<uv_handle_t>(OpaquePointer(checkHandle))) { h in
            UnsafeMutablePointer<uv_check_t>(OpaquePointer(h!)).deallocate()
        }
        // Let pending close callbacks run.
        while uv_run(uv, UV_RUN_NOWAIT) != 0 {}
        let rc = uv_loop_close(uv)
        if rc == 0 {
            uv.deallocate()
            readBuffer.deallocate()
            buffers.drain()
        }
        return rc
    }

    /// Ignore SIGPIPE process-wide: a write to a reset socket must return EPIPE, not kill the server.
    public static func ignoreSIGPIPE() { circle_ignore_sigpipe() }
}
