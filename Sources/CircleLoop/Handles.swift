import CLibUV

@inline(__always)
func asHandle<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<uv_handle_t> {
    UnsafeMutablePointer<uv_handle_t>(OpaquePointer(p))
}

@inline(__always)
func asStream<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<uv_stream_t> {
    UnsafeMutablePointer<uv_stream_t>(OpaquePointer(p))
}

/// A libuv timer. Keeps itself alive while open; `close()` releases it after libuv's close callback.
public final class LoopTimer {
    private let handle: UnsafeMutablePointer<uv_timer_t>
    private var callback: (() -> Void)?
    private var selfRetain: Unmanaged<LoopTimer>?

    public init(loop: EventLoop) {
        handle = .allocate(capacity: 1)
        uv_timer_init(loop.uv, handle)
        selfRetain = Unmanaged.passRetained(self)
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    /// Fires `callback` after `milliseconds`, then every `repeatMilliseconds` if that is non-zero.
    public func start(afterMilliseconds milliseconds: UInt64, repeatMilliseconds: UInt64 = 0, _ callback: @escaping () -> Void) {
        guard selfRetain != nil else { return }
        self.callback = callback
        uv_timer_start(handle, { h in
            let t = Unmanaged<LoopTimer>.fromOpaque(h!.pointee.data).takeUnretainedValue()
            t.callback?()
        }, milliseconds, repeatMilliseconds)
    }

    public func stop() {
        guard selfRetain != nil else { return }
        uv_timer_stop(handle)
    }

    /// Lets the loop exit even while this timer is active.
    public func unref() { if selfRetain != nil { uv_unref(asHandle(handle)) } }

    public var isClosed: Bool { selfRetain == nil || uv_is_closing(asHandle(handle)) != 0 }

    /// Closes the timer; idempotent.
    public func close() {
        guard selfRetain != nil, uv_is_closing(asHandle(handle)) == 0 else { return }
        callback = nil
        uv_close(asHandle(handle)) { h in
            let t = Unmanaged<LoopTimer>.fromOpaque(h!.pointee.data)
            t.takeUnretainedValue().handle.deallocate()
            t.takeUnretainedValue().selfRetain = nil
            t.release()
        }
    }
}

/// A libuv signal watcher (SIGINT, SIGTERM, SIGHUP…), delivered on the loop thread.
public final class SignalWatcher {
    private let handle: UnsafeMutablePointer<uv_signal_t>
    private var callback: ((Int32) -> Void)?
    private var selfRetain: Unmanaged<SignalWatcher>?

    public init(loop: EventLoop, signal signum: Int32, _ callback: @escaping (Int32) -> Void) throws(LoopError) {
        handle = .allocate(capacity: 1)
        uv_signal_init(loop.uv, handle)
        self.callback = callback
        selfRetain = Unmanaged.passRetained(self)
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        circle_unblock_signal(signum)
        let rc = uv_signal_start(handle, { h, signum in
            Unmanaged<SignalWatcher>.fromOpaque(h!.pointee.data).takeUnretainedValue().callback?(signum)
        }, signum)
        if rc < 0 {
            close()
            throw LoopError(rc, "uv_signal_start")
        }
        // A signal watcher alone doesn't keep the loop running.
        uv_unref(asHandle(handle))
    }

    public func close() {
        guard selfRetain != nil, uv_is_closing(asHandle(handle)) == 0 else { return }
        callback = nil
        uv_close(asHandle(handle)) { h in
            let s = Unmanaged<SignalWatcher>.fromOpaque(h!.pointee.data)
            s.takeUnretainedValue().handle.deallocate()
            s.takeUnretainedValue().selfRetain = nil
            s.release()
        }
    }
}
