/// The loop side of a store, whatever its backend: the queue of writes made this turn, the bounds, the
/// completions by id, and the one ``WriterThread`` behind it. Used from the loop thread only.
package final class StoreLoop {
    /// The bounds of the queue and when a long turn flushes early (as in ``StoreConfiguration``).
    package struct Limits: Sendable {
        var maxQueuedWrites: Int
        var maxQueuedBytes: Int
        var flushThreshold: Int

        package init(maxQueuedWrites: Int, maxQueuedBytes: Int = .max, flushThreshold: Int) {
            self.maxQueuedWrites = maxQueuedWrites
            self.maxQueuedBytes = maxQueuedBytes
            self.flushThreshold = flushThreshold
        }
    }

    private let limits: Limits
    private let writer: WriterThread
    private var pending: [QueuedOperation] = []
    private var pendingBytes = 0
    private var callbacks: [UInt64: (StoreReply) -> Void] = [:]
    private var nextID: UInt64 = 1
    private var writesQueued: UInt64 = 0
    private var writesRefused: UInt64 = 0
    package private(set) var closed = false

    /// Starts the writer thread on `backend` (opened and prepared by the caller).
    package init(backend: any StoreBackend, limits: Limits, timing: WriterTiming,
                 wake: @escaping @Sendable () -> Void) {
        self.limits = limits
        writer = WriterThread(backend: backend, timing: timing, wake: wake)
        writer.start()
    }

    /// Hands the writes queued so far to the writer as one batch (one transaction).
    package func flush() {
        guard !pending.isEmpty, !closed else { return }
        var batch: [QueuedOperation] = []
        swap(&batch, &pending)
        writer.submit(batch, bytes: pendingBytes)
        pendingBytes = 0
    }

    /// Runs the completions that are ready.
    package func drainCompletions() {
        for (id, reply) in writer.takeReplies() {
            callbacks.removeValue(forKey: id)?(reply)
        }
    }

    package var stats: StoreStats {
        var stats = writer.stats
        stats.writesQueued = writesQueued
        stats.writesRefused = writesRefused
        stats.queuedWrites = pending.count + writer.inFlight.load(ordering: .relaxed)
        stats.queuedBytes = pendingBytes + writer.inFlightBytes.load(ordering: .relaxed)
        return stats
    }

    package var health: StoreHealth { writer.health }

    /// Flushes and blocks until the writer has committed everything queued (or failed), then runs the completions.
    package func waitIdle() -> Bool {
        flush()
        let ok = writer.waitIdle()
        drainCompletions()
        return ok
    }

    /// Flushes, lets the writer commit what it can and stops it (it closes the backend); completions still
    /// waiting get `.closed`.
    package func close() {
        guard !closed else { return }
        flush()
        closed = true
        writer.stop()
        drainCompletions()
        for (_, callback) in callbacks { callback(.failed(.closed)) }
        callbacks = [:]
    }

    /// Whether a refusable write of `bytes` fits under the bounds; counts a refusal.
    package func admit(bytes: Int) -> Bool {
        let queued = pending.count + writer.inFlight.load(ordering: .relaxed)
        let queuedBytes = pendingBytes + writer.inFlightBytes.load(ordering: .relaxed)
        if closed || queued >= limits.maxQueuedWrites || queuedBytes + bytes > limits.maxQueuedBytes {
            writesRefused += 1
            return false
        }
        return true
    }

    package func enqueue(_ operation: StoreOperation, durable: Bool = false,
                         completion: ((StoreReply) -> Void)? = nil) {
        guard !closed else {
            completion?(.failed(.closed))
            return
        }
        var id: UInt64 = 0
        if let completion {
            id = nextID
            nextID += 1
            callbacks[id] = completion
        }
        pending.append(QueuedOperation(id: id, operation: operation, durable: durable))
        pendingBytes += operation.payloadBytes
        writesQueued += 1
        if pending.count >= limits.flushThreshold { flush() }
    }

    /// Reads and numbered writes leave at once: nothing waits for the turn's end behind them.
    package func read(_ operation: StoreOperation, completion: @escaping (StoreReply) -> Void) {
        enqueue(operation, completion: completion)
        flush()
    }
}

/// A store whose calls go through a ``StoreLoop``: ``SQLiteStore`` and CirclePostgres's records store. This gives
/// both the records calls and the driving of the loop side; each keeps `close()` (what it owns besides).
package protocol LoopBackedStore: RecordStore, StoreDriving {
    var loop: StoreLoop { get }
}

extension LoopBackedStore {
    // MARK: RecordStore

    public func openSession(group: String, openedAt: Int64, completion: @escaping (Result<Int, StoreError>) -> Void) {
        loop.read(.openSession(group: group, openedAt: openedAt)) { reply in
            guard case let .number(number) = reply else { return completion(.failure(reply.failure)) }
            completion(.success(number))
        }
    }

    public func closeSession(group: String, number: Int, closedAt: Int64, completion: ((StoreError?) -> Void)?) {
        loop.enqueue(.closeSession(group: group, number: number, closedAt: closedAt),
                     completion: completion.map { done in { reply in done(reply.error) } })
    }

    @discardableResult public func putAttendance(_ record: AttendanceRecord) -> Bool {
        guard loop.admit(bytes: 0) else { return false }
        loop.enqueue(.attendance(record))
        return true
    }

    public func sessions(group: String, completion: @escaping (Result<[SessionRecord], StoreError>) -> Void) {
        loop.read(.sessions(group: group)) { reply in
            guard case let .sessions(list) = reply else { return completion(.failure(reply.failure)) }
            completion(.success(list))
        }
    }

    public func attendance(group: String, sub: String?,
                           completion: @escaping (Result<[AttendanceRecord], StoreError>) -> Void) {
        loop.read(.attendanceQuery(group: group, sub: sub)) { reply in
            guard case let .attendance(rows) = reply else { return completion(.failure(reply.failure)) }
            completion(.success(rows))
        }
    }

    public func deleteRecords(before cutoff: Int64, completion: @escaping (Result<Int, StoreError>) -> Void) {
        loop.read(.deleteRecords(before: cutoff)) { reply in
            guard case let .number(count) = reply else { return completion(.failure(reply.failure)) }
            completion(.success(count))
        }
    }

    public func erase(group: String, sub: String, completion: @escaping (Result<Int, StoreError>) -> Void) {
        loop.read(.erase(group: group, sub: sub)) { reply in
            guard case let .number(count) = reply else { return completion(.failure(reply.failure)) }
            completion(.success(count))
        }
    }

    // MARK: StoreDriving

    public func flush() { loop.flush() }
    public func drainCompletions() { loop.drainCompletions() }
    public var stats: StoreStats { loop.stats }
    /// `failing` while writes fail (disk full, I/O error, PostgreSQL away): /readyz should answer 503.
    public var health: StoreHealth { loop.health }

    /// Flushes and blocks until the writer has committed everything queued, then runs the completions.
    /// For startup (before the loop runs), tests and tools; returns false when a batch failed.
    @discardableResult public func waitIdle() -> Bool { loop.waitIdle() }
}
