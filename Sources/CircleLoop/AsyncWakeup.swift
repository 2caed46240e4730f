import CLibUV

/// A libuv async handle: made on the loop, `signal()`ed from any thread, its callback runs on the loop thread.
/// Several signals before the loop gets to it run the callback once (libuv coalesces them). The store's writer
/// thread uses it to hand completions back.
public final class AsyncWakeup: LoopHandle {
    private let handle: UnsafeMutablePointer<uv_async_t>
    private var callback: (() -> Void)?
    /// What other threads hold: it refuses to signal once the handle is closing, so nobody touches freed memory.
    public let signaller: Signaller

    /// A thread-safe way to wake the loop, valid until the wakeup closes (after that a signal does nothing).
    public final class Signaller: @unchecked Sendable {  // `handle` and `open` are guarded by `mutex`
        private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        private let handle: UnsafeMutablePointer<uv_async_t>
        private var open = true

        init(_ handle: UnsafeMutablePointer<uv_async_t>) {
            self.handle = handle
            pthread_mutex_init(mutex, nil)
        }

        deinit {
            pthread_mutex_destroy(mutex)
            mutex.deallocate()
        }

        /// Wakes the loop; callable from any thread.
        public func signal() {
            pthread_mutex_lock(mutex)
            if open { uv_async_send(handle) }
            pthread_mutex_unlock(mutex)
        }

        func invalidate() {
            pthread_mutex_lock(mutex)
            open = false
            pthread_mutex_unlock(mutex)
        }
    }

    public init(loop: EventLoop, _ callback: @escaping () -> Void) {
        handle = .allocate(capacity: 1)
        uv_async_init(loop.uv, handle) { h in
            Unmanaged<AsyncWakeup>.fromOpaque(h!.pointee.data).takeUnretainedValue().callback?()
        }
        signaller = Signaller(handle)
        self.callback = callback
        super.init(handle)
    }

    /// Wakes the loop; callable from any thread (through `signaller`).
    public func signal() { signaller.signal() }

    override func willClose() {
        signaller.invalidate()
        callback = nil
    }

    /// Closes the handle; idempotent. Signals after this do nothing.
    public func close() { closeHandle() }
}
