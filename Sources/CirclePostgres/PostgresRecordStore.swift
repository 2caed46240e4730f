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
/// thread) should schedule through a libuv async handle. The loop side and the writer thread are CircleStore's,
/// shared with SQLite: one transaction per batch over libpq's blocking API (``PostgresBackend``). While the server
/// cannot be reached writes wait and are retried (the delay doubling), reads fail at once, `health` is failing;
/// the writer reconnects when it is back. The records calls, `flush`, `drainCompletions`, `stats`, `health` and
/// `waitIdle` are CircleStore's `LoopBackedStore`'s.
public final class PostgresRecordStore: RecordStore, StoreDriving, LoopBackedStore {
    public let url: PostgresURL
    private let backend: PostgresBackend
    package let loop: StoreLoop

    public init(url: PostgresURL, configuration: PostgresConfiguration = PostgresConfiguration(),
                wake: @escaping @Sendable () -> Void) throws(StoreError) {
        self.url = url
        backend = try PostgresBackend(url: url, connectTimeoutSeconds: configuration.connectTimeoutSeconds)
        let timing = WriterTiming(retryDelayNanoseconds: configuration.retryDelayNanoseconds,
                                  maxRetryDelayNanoseconds: configuration.maxRetryDelayNanoseconds,
                                  healthCheckNanoseconds: configuration.healthCheckNanoseconds)
        loop = StoreLoop(backend: backend,
                         limits: StoreLoop.Limits(maxQueuedWrites: configuration.maxQueuedWrites,
                                                  flushThreshold: configuration.flushThreshold),
                         timing: timing, wake: wake)
    }

    deinit { close() }

    /// Connections made again after the server was lost (for tests and logs).
    public var reconnects: UInt64 { backend.reconnects.load(ordering: .relaxed) }

    /// Flushes, waits for the writer to commit everything (trying three more times while the server is away), and
    /// stops it. Completions still waiting get `.closed`.
    public func close() { loop.close() }
}
