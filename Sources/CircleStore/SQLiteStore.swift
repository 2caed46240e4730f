/// Settings of the embedded store.
public struct StoreConfiguration: Sendable {
    /// Writes waiting (loop side and writer queue) past which events, snapshots and attendance are refused.
    public var maxQueuedWrites = 100_000
    /// Payload bytes waiting past which the same writes are refused.
    public var maxQueuedBytes = 64 << 20
    /// Writes queued on the loop side that trigger a flush without waiting for the turn's end.
    public var flushThreshold = 4_096
    /// How long the writer waits before retrying a batch that failed (disk full, I/O error).
    public var retryDelayNanoseconds = 200_000_000
    /// SQLite's `max_page_count`: a cap on the database's size (nil: none). For tests of a full disk.
    public var maxPageCount: Int?

    public init() {}
}

/// The embedded store: SQLite in WAL mode in `--data-dir`, written by one writer thread.
///
/// Open it before the loop runs (`open` is synchronous and throws the typed error that refuses a start); after that
/// use it from the loop thread only. `wake` is called from the writer thread when completions are ready: wire it to
/// a libuv async handle whose callback calls `drainCompletions()` on the loop.
public final class SQLiteStore: GroupStore {
    public let directory: String
    private let configuration: StoreConfiguration
    private let dataDirectory: DataDirectory
    private let database: SQLiteDatabase
    private let writer: WriterThread
    private var pending: [QueuedOperation] = []
    private var pendingBytes = 0
    private var callbacks: [UInt64: (StoreReply) -> Void] = [:]
    private var nextID: UInt64 = 1
    private var writesQueued: UInt64 = 0
    private var writesRefused: UInt64 = 0
    /// Groups that had an event refused: they refuse events until their next snapshot, so there is never a gap.
    private var needSnapshot: Set<String> = []
    private var closed = false

    /// Opens (creating if missing) the store in `directory`. Throws `StoreError` for a directory that cannot be
    /// created, is read-only or is held by another process, and for a corrupt or newer database.
    public init(directory: String, configuration: StoreConfiguration = StoreConfiguration(),
                wake: @escaping @Sendable () -> Void) throws(StoreError) {
        self.directory = directory
        self.configuration = configuration
        dataDirectory = try DataDirectory(path: directory)
        database = try SQLiteDatabase(path: dataDirectory.databasePath)
        let backend = SQLiteBackend(database: database)
        do throws(StoreError) {
            try backend.prepare()
            if let pages = configuration.maxPageCount { _ = try database.scalar("PRAGMA max_page_count=\(pages)") }
        } catch {
            database.close()
            dataDirectory.unlock()
            throw error
        }
        writer = WriterThread(backend: backend, retryDelayNanoseconds: configuration.retryDelayNanoseconds, wake: wake)
        writer.start()
    }

    deinit { close() }

    // MARK: RoomStateStore

    @discardableResult public func appendEvent(group: String, seq: UInt64, bytes: [UInt8]) -> Bool {
        guard !needSnapshot.contains(group), admit(bytes: bytes.count) else {
            needSnapshot.insert(group)
            return false
        }
        enqueue(.event(group: group, seq: seq, bytes: bytes))
        return true
    }

    @discardableResult public func putSnapshot(_ snapshot: RoomSnapshot) -> Bool {
        guard admit(bytes: snapshot.bytes.count) else { return false }
        needSnapshot.remove(snapshot.group)
        enqueue(.snapshot(snapshot))
        return true
    }

    public func putSafety(group: String, _ safety: SafetyState, durable: Bool,
                          completion: ((StoreError?) -> Void)?) {
        enqueue(.safety(group: group, safety), durable: durable, completion: completion.map { done in
            { reply in done(reply.error) }
        })
        if durable { flush() }
    }

    public func dropRoom(group: String) {
        needSnapshot.remove(group)
        enqueue(.dropRoom(group: group))
    }

    public func loadRoom(group: String, completion: @escaping (Result<RestoredRoom?, StoreError>) -> Void) {
        read(.loadRoom(group: group)) { reply in
            guard case let .room(room) = reply else { return completion(.failure(reply.failure)) }
            completion(.success(room))
        }
    }

    public func listRooms(completion: @escaping (Result<[String], StoreError>) -> Void) {
        read(.listRooms) { reply in
            guard case let .rooms(groups) = reply else { return completion(.failure(reply.failure)) }
            completion(.success(groups))
        }
    }

    // MARK: RecordStore

    public func openSession(group: String, openedAt: Int64, completion: @escaping (Result<Int, StoreError>) -> Void) {
        read(.openSession(group: group, openedAt: openedAt)) { reply in
            guard case let .number(number) = reply else { return completion(.failure(reply.failure)) }
            completion(.success(number))
        }
    }

    public func closeSession(group: String, number: Int, closedAt: Int64, completion: ((StoreError?) -> Void)?) {
        enqueue(.closeSession(group: group, number: number, closedAt: closedAt), completion: completion.map { done in
            { reply in done(reply.error) }
        })
    }

    @discardableResult public func putAttendance(_ record: AttendanceRecord) -> Bool {
        guard admit(bytes: 0) else { return false }
        enqueue(.attendance(record))
        return true
    }

    public func sessions(group: String, completion: @escaping (Result<[SessionRecord], StoreError>) -> Void) {
        read(.sessions(group: group)) { reply in
            guard case let .sessions(list) = reply else { return completion(.failure(reply.failure)) }
            completion(.success(list))
        }
    }

    public func attendance(group: String, sub: String?,
                           completion: @escaping (Result<[AttendanceRecord], StoreError>) -> Void) {
        read(.attendanceQuery(group: group, sub: sub)) { reply in
            guard case let .attendance(rows) = reply else { return completion(.failure(reply.failure)) }
            completion(.success(rows))
        }
    }

    public func deleteRecords(before cutoff: Int64, completion: @escaping (Result<Int, StoreError>) -> Void) {
        read(.deleteRecords(before: cutoff)) { reply in
            guard case let .number(count) = reply else { return completion(.failure(reply.failure)) }
            completion(.success(count))
        }
    }

    public func erase(group: String, sub: String, completion: @escaping (Result<Int, StoreError>) -> Void) {
        read(.erase(group: group, sub: sub)) { reply in
            guard case let .number(count) = reply else { return completion(.failure(reply.failure)) }
            completion(.success(count))
        }
    }

    // MARK: Driving

    public func flush() {
        guard !pending.isEmpty, !closed else { return }
        var batch: [QueuedOperation] = []
        swap(&batch, &pending)
        writer.submit(batch, bytes: pendingBytes)
        pendingBytes = 0
    }

    public func drainCompletions() {
        for (id, reply) in writer.takeReplies() {
            callbacks.removeValue(forKey: id)?(reply)
        }
    }

    public var stats: StoreStats {
        var stats = writer.stats
        stats.writesQueued = writesQueued
        stats.writesRefused = writesRefused
        stats.queuedWrites = pending.count + writer.inFlight.load(ordering: .relaxed)
        stats.queuedBytes = pendingBytes + writer.inFlightBytes.load(ordering: .relaxed)
        return stats
    }

    public var health: StoreHealth { writer.health }

    /// Flushes and blocks until the writer has committed everything queued, then runs the completions.
    /// For startup (before the loop runs), tests and tools; returns false when a batch failed.
    @discardableResult public func waitIdle() -> Bool {
        flush()
        let ok = writer.waitIdle()
        drainCompletions()
        return ok
    }

    public func close() {
        guard !closed else { return }
        flush()
        closed = true
        writer.stop()
        drainCompletions()
        for (_, callback) in callbacks { callback(.failed(.closed)) }
        callbacks = [:]
        database.close()
        dataDirectory.unlock()
    }

    // MARK: Queueing

    /// Whether a refusable write of `bytes` fits under the bounds; counts a refusal.
    private func admit(bytes: Int) -> Bool {
        let queued = pending.count + writer.inFlight.load(ordering: .relaxed)
        let queuedBytes = pendingBytes + writer.inFlightBytes.load(ordering: .relaxed)
        if closed || queued >= configuration.maxQueuedWrites || queuedBytes + bytes > configuration.maxQueuedBytes {
            writesRefused += 1
            return false
        }
        return true
    }

    private func enqueue(_ operation: StoreOperation, durable: Bool = false,
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
        if pending.count >= configuration.flushThreshold { flush() }
    }

    /// Reads and numbered writes leave at once: nothing waits for the turn's end behind them.
    private func read(_ operation: StoreOperation, completion: @escaping (StoreReply) -> Void) {
        enqueue(operation, completion: completion)
        flush()
    }
}

extension StoreReply {
    var error: StoreError? {
        if case let .failed(error) = self { return error }
        return nil
    }

    var failure: StoreError { error ?? .io(path: "", code: 0, message: "unexpected reply") }
}
