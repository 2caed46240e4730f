import CircleStore

/// Settings of the PostgreSQL records store.
public struct PostgresConfiguration: Sendable {
    /// Writes waiting (loop side and writer) past which attendance is refused. Waiting attendance is kept one row
    /// per person per session (the last), so an outage fills this with people, not with changes.
    public var maxQueuedWrites = 100_000
    /// Writes queued on the loop side that trigger a flush without waiting for the turn's end.
    public var flushThreshold = 4_096
    /// The first wait before retrying after a failure; it doubles up to `maxRetryDelayNanoseconds`.
    public var retryDelayNanoseconds = 200_000_000
    public var maxRetryDelayNanoseconds = 2_000_000_000
    /// How often an idle writer checks the server is there (so that `health` tells of an outage with no writes).
    public var healthCheckNanoseconds = 5_000_000_000
    /// libpq's `connect_timeout` (a URL parameter of the same name wins).
    public var connectTimeoutSeconds = 5

    public init() {}
}

/// Attendance records in PostgreSQL: the same tables, calls and results as ``SQLiteStore``'s records.
///
/// Open it before the loop runs: `init` connects once (blocking) and creates the schema, and throws when the server
/// cannot be reached or holds a newer schema. After that use it from the loop thread only; every call returns at
/// once and its completion runs on the loop from `drainCompletions()`, which `wake` (called from the writer
/// thread) should schedule through a libuv async handle. One writer thread talks to the server with libpq's
/// blocking API, one transaction per batch (``PostgresWriter``); it reconnects after the server comes back.
public final class PostgresRecordStore: RecordStore, StoreDriving {
    public let url: PostgresURL
    private let configuration: PostgresConfiguration
    private let writer: PostgresWriter
    private var pending: [QueuedRecord] = []
    private var callbacks: [UInt64: (RecordReply) -> Void] = [:]
    private var nextID: UInt64 = 1
    private var writesQueued: UInt64 = 0
    private var writesRefused: UInt64 = 0
    private var closed = false

    public init(url: PostgresURL, configuration: PostgresConfiguration = PostgresConfiguration(),
                wake: @escaping @Sendable () -> Void) throws(StoreError) {
        self.url = url
        self.configuration = configuration
        let connection = try PostgresConnection(url: url, timeoutSeconds: configuration.connectTimeoutSeconds)
        try PostgresBackend.prepare(connection)
        let timing = PostgresWriter.Timing(
            retryDelayNanoseconds: configuration.retryDelayNanoseconds,
            maxRetryDelayNanoseconds: configuration.maxRetryDelayNanoseconds,
            healthCheckNanoseconds: configuration.healthCheckNanoseconds,
            connectTimeoutSeconds: configuration.connectTimeoutSeconds)
        writer = PostgresWriter(url: url, connection: connection, timing: timing, wake: wake)
        writer.start()
    }

    deinit { close() }

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
        guard admit() else { return false }
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

    // MARK: Driving (as GroupStore's)

    /// Hands the writes queued so far to the writer as one batch (one transaction).
    public func flush() {
        guard !pending.isEmpty, !closed else { return }
        var batch: [QueuedRecord] = []
        swap(&batch, &pending)
        writer.submit(batch)
    }

    /// Runs the completions that are ready (loop thread).
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
        return stats
    }

    /// `failing` while the server cannot be reached or refuses the writes: /readyz should answer 503.
    public var health: StoreHealth { writer.health }

    /// Connections made again after the server was lost (for tests and logs).
    public var reconnects: UInt64 { writer.reconnectCount }

    /// Flushes and blocks until the writer has committed everything queued (or failed), then runs the completions.
    /// For startup, tests and tools; returns false when the server is failing.
    @discardableResult public func waitIdle() -> Bool {
        flush()
        let ok = writer.waitIdle()
        drainCompletions()
        return ok
    }

    /// Flushes, waits for the writer to commit everything (trying three more times while the server is away), and
    /// stops it. Completions still waiting get `.closed`.
    public func close() {
        guard !closed else { return }
        flush()
        closed = true
        writer.stop()
        drainCompletions()
        for (_, callback) in callbacks { callback(.failed(.closed)) }
        callbacks = [:]
    }

    // MARK: Queueing

    /// Whether one more refusable write fits under the bound; counts a refusal.
    private func admit() -> Bool {
        if closed || pending.count + writer.inFlight.load(ordering: .relaxed) >= configuration.maxQueuedWrites {
            writesRefused += 1
            return false
        }
        return true
    }

    private func enqueue(_ operation: RecordOperation, completion: ((RecordReply) -> Void)? = nil) {
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
        pending.append(QueuedRecord(id: id, operation: operation))
        writesQueued += 1
        if pending.count >= configuration.flushThreshold { flush() }
    }

    /// Reads and numbered writes leave at once: nothing waits for the turn's end behind them.
    private func read(_ operation: RecordOperation, completion: @escaping (RecordReply) -> Void) {
        enqueue(operation, completion: completion)
        flush()
    }
}

extension RecordReply {
    var error: StoreError? {
        if case let .failed(error) = self { return error }
        return nil
    }

    var failure: StoreError { error ?? .io(path: "", code: 0, message: "unexpected reply") }
}
