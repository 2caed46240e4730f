import CLibUV

/// A growable byte buffer in manually managed memory, so that its address is stable while libuv writes from it.
/// Empty queues hold no memory.
struct ByteQueue {
    private(set) var base: UnsafeMutableRawPointer?
    private(set) var capacity = 0
    var count = 0

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let src = bytes.baseAddress, bytes.count > 0 else { return }
        let needed = count + bytes.count
        if needed > capacity {
            var newCapacity = max(capacity * 2, 512)
            while newCapacity < needed { newCapacity *= 2 }
            let p = realloc(base, newCapacity)!
            base = p
            capacity = newCapacity
        }
        (base! + count).copyMemory(from: src, byteCount: bytes.count)
        count = needed
    }

    /// Frees the memory.
    mutating func release() {
        free(base)
        base = nil
        capacity = 0
        count = 0
    }
}
