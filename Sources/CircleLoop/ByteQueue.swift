import CLibUV

/// A growable byte buffer in manually managed memory, so that its address is stable while libuv writes from it.
/// Empty queues hold no memory. Small queues take their memory from the loop's ``BufferPool`` and give it back when
/// released, so that a connection written to every loop turn doesn't call malloc and free every turn.
struct ByteQueue {
    private(set) var base: UnsafeMutableRawPointer?
    private(set) var capacity = 0
    var count = 0

    mutating func append(_ bytes: UnsafeRawBufferPointer, pool: inout BufferPool) {
        guard let src = bytes.baseAddress, bytes.count > 0 else { return }
        let needed = count + bytes.count
        if needed > capacity { grow(to: needed, pool: &pool) }
        (base! + count).copyMemory(from: src, byteCount: bytes.count)
        count = needed
    }

    private mutating func grow(to needed: Int, pool: inout BufferPool) {
        if base == nil && needed <= BufferPool.chunkSize {
            base = pool.take()
            capacity = BufferPool.chunkSize
            return
        }
        var newCapacity = max(capacity * 2, 512)
        while newCapacity < needed { newCapacity *= 2 }
        base = realloc(base, newCapacity)!
        capacity = newCapacity
    }

    /// Frees the memory (a pool-sized buffer goes back to the pool).
    mutating func release(to pool: inout BufferPool) {
        if let base {
            if capacity == BufferPool.chunkSize { pool.giveBack(base) } else { free(base) }
        }
        base = nil
        capacity = 0
        count = 0
    }
}

/// Write buffers of one size kept by a loop for its connections' queues. Bounded: a burst that dirties thousands of
/// connections at once frees what is beyond `keptCount` when it is over, so an idle server holds at most
/// `keptCount * chunkSize` bytes here.
struct BufferPool {
    static let chunkSize = 2048
    private static let keptCount = 128
    private var spare: [UnsafeMutableRawPointer] = []

    mutating func take() -> UnsafeMutableRawPointer { spare.popLast() ?? malloc(Self.chunkSize)! }

    mutating func giveBack(_ buffer: UnsafeMutableRawPointer) {
        if spare.count < Self.keptCount { spare.append(buffer) } else { free(buffer) }
    }

    /// Frees every kept buffer.
    mutating func drain() {
        for buffer in spare { free(buffer) }
        spare = []
    }
}
