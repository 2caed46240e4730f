import CLibUV

@inline(__always)
func asHandle<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<uv_handle_t> {
    UnsafeMutablePointer<uv_handle_t>(OpaquePointer(p))
}

@inline(__always)
func asStream<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<uv_stream_t> {
    UnsafeMutablePointer<uv_stream_t>(OpaquePointer(p))
}

/// The lifecycle every libuv handle owner shares (init → start/stop → close; memory freed only in the close
/// callback): the owner keeps itself alive while its handle is open; libuv's close callback frees the handle's memory
/// and releases the owner. `handle->data` points back at the owner, unretained.
public class LoopHandle {
    let rawHandle: UnsafeMutablePointer<uv_handle_t>
    private var selfRetain: Unmanaged<LoopHandle>?

    /// Takes ownership of `handle`, which the caller has allocated and initialised with its `uv_*_init`.
    init<T>(_ handle: UnsafeMutablePointer<T>) {
        rawHandle = asHandle(handle)
        selfRetain = Unmanaged.passRetained(self)
        rawHandle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    /// Whether the handle is still open (not closing or closed).
    var isOpen: Bool { selfRetain != nil && uv_is_closing(rawHandle) == 0 }

    /// Whether the handle is closing or closed.
    public var isClosed: Bool { !isOpen }

    /// Lets the loop exit even while this handle is active.
    public func unref() { if isOpen { uv_unref(rawHandle) } }

    /// Called just before `uv_close`: drop callbacks here.
    func willClose() {}

    /// Closes the handle; idempotent. The owner is released once libuv has let go of the handle.
    func closeHandle() {
        guard isOpen else { return }
        willClose()
        uv_close(rawHandle) { h in
            let owner = Unmanaged<LoopHandle>.fromOpaque(h!.pointee.data)
            let handle = owner.takeUnretainedValue()
            UnsafeMutableRawPointer(handle.rawHandle).deallocate()
            handle.selfRetain = nil
            owner.release()
        }
    }
}

/// A libuv timer. Keeps itself alive while open; `close()` releases it after libuv's close callback.
public final class LoopTimer: LoopHandle {
    private let handle: UnsafeMutablePointer<uv_timer_t>
    private var callback: (() -> Void)?

    public init(loop: EventLoop) {
        handle = .allocate(capacity: 1)
        uv_timer_init(loop.uv, handle)
        super.init(handle)
    }

    /// Fires `callback` after `milliseconds`, then every `repeatMilliseconds` if that is non-zero.
    public func start(afterMilliseconds milliseconds: UInt64, repeatMilliseconds: UInt64 = 0,
                      _ callback: @escaping () -> Void) {
        guard isOpen else { return }
        self.callback = callback
        uv_timer_start(handle, { h in
            Unmanaged<LoopTimer>.fromOpaque(h!.pointee.data).takeUnretainedValue().callback?()
        }, milliseconds, repeatMilliseconds)
    }

    public func stop() {
        guard isOpen else { return }
        uv_timer_stop(handle)
    }

    override func willClose() { callback = nil }

    /// Closes the timer; idempotent.
    public func close() { closeHandle() }
}

/// A libuv signal watcher (SIGINT, SIGTERM, SIGHUP…), delivered on the loop thread.
public final class SignalWatcher: LoopHandle {
    private let handle: UnsafeMutablePointer<uv_signal_t>
    private var callback: ((Int32) -> Void)?

    public init(loop: EventLoop, signal signum: Int32, _ callback: @escaping (Int32) -> Void) throws(LoopError) {
        handle = .allocate(capacity: 1)
        uv_signal_init(loop.uv, handle)
        self.callback = callback
        super.init(handle)
        circle_unblock_signal(signum)
        let rc = uv_signal_start(handle, { h, signum in
            Unmanaged<SignalWatcher>.fromOpaque(h!.pointee.data).takeUnretainedValue().callback?(signum)
        }, signum)
        if rc < 0 {
            close()
            throw LoopError(rc, "uv_signal_start")
        }
        // A signal watcher alone doesn't keep the loop running.
        uv_unref(rawHandle)
    }

    override func willClose() { callback = nil }

    public func close() { closeHandle() }
}
