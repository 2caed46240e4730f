/// One queued operation, made on the loop thread and carried out on the writer thread by a ``StoreBackend``.
package enum StoreOperation: Sendable {
    case event(group: String, seq: UInt64, bytes: [UInt8])
    case snapshot(RoomSnapshot)
    case safety(group: String, SafetyState)
    case dropRoom(group: String)
    case openSession(group: String, openedAt: Int64)
    case closeSession(group: String, number: Int, closedAt: Int64)
    case attendance(AttendanceRecord)
    case deleteRecords(before: Int64)
    case erase(group: String, sub: String)
    case loadRoom(group: String)
    case listRooms
    case sessions(group: String)
    case attendanceQuery(group: String, sub: String?)

    /// Payload bytes, for the queue's byte bound and the bytes-committed counter.
    var payloadBytes: Int {
        switch self {
        case let .event(_, _, bytes): bytes.count
        case let .snapshot(snapshot): snapshot.bytes.count
        default: 0
        }
    }

    /// Writes that can run again after a failed batch with the same result.
    var retriable: Bool {
        switch self {
        case .event, .snapshot, .safety, .dropRoom, .closeSession, .attendance: true
        case .openSession, .deleteRecords, .erase, .loadRoom, .listRooms, .sessions, .attendanceQuery: false
        }
    }

    /// Writes of a room's snapshot and journal.
    var isRoomWrite: Bool {
        switch self {
        case .event, .snapshot, .dropRoom: true
        default: false
        }
    }

    /// Reads answer at once with the error while the backend cannot be reached; writes wait for it.
    var isRead: Bool {
        switch self {
        case .loadRoom, .listRooms, .sessions, .attendanceQuery: true
        default: false
        }
    }
}

/// What an operation gives back to its completion.
package enum StoreReply: Sendable {
    case done
    case failed(StoreError)
    case room(RestoredRoom?)
    case rooms([String])
    case number(Int)
    case sessions([SessionRecord])
    case attendance([AttendanceRecord])

    var error: StoreError? {
        if case let .failed(error) = self { return error }
        return nil
    }

    var failure: StoreError { error ?? .io(path: "", code: 0, message: "unexpected reply") }
}

/// One queued operation with the id of its completion (0: none) and whether it must be fully synced.
struct QueuedOperation: Sendable {
    var id: UInt64
    var operation: StoreOperation
    var durable: Bool
}

/// A database the shared writer thread (``WriterThread``) runs batches on: SQLite in `--data-dir`, or PostgreSQL
/// (CirclePostgres). Its methods run on the writer thread only, once the store has opened it.
package protocol StoreBackend: AnyObject {
    /// Before each batch and each health check: (re)connects when the connection was lost. A throw means nothing
    /// was written: reads get the error, writes wait for the next try.
    func connect() throws(StoreError)
    /// Opens the batch's transaction; `durable`: its commit must survive a power loss.
    func begin(durable: Bool) throws(StoreError)
    /// Carries out one operation inside the transaction.
    func apply(_ operation: StoreOperation) throws(StoreError) -> StoreReply
    func commit() throws(StoreError)
    /// After a failure anywhere in the batch (never throws; notes a lost connection).
    func rollback()
    /// False once the connection is gone: a batch that failed before its COMMIT was sent wrote nothing.
    var isConnected: Bool { get }
    /// An idle round trip, every `WriterTiming.healthCheckNanoseconds` (so that `health` tells of an outage early).
    func checkHealth() throws(StoreError)
    /// When the writer thread ends.
    func close()
}

/// How the writer retries and checks an idle backend.
package struct WriterTiming: Sendable {
    /// The first wait before retrying a failed batch; it doubles on each failure up to `maxRetryDelayNanoseconds`.
    package var retryDelayNanoseconds: Int
    package var maxRetryDelayNanoseconds: Int
    /// How often an idle writer calls `checkHealth` (nil: never).
    package var healthCheckNanoseconds: Int?
    /// How long a woken writer lets a batch with no durable write gather before it takes it: the turns of a burst
    /// (a thousand rooms opening their sessions) become a few transactions instead of one each, and the writer
    /// stops taking the loop's core every turn. Adds at most this much to the crash bound.
    package var gatherNanoseconds: Int

    package init(retryDelayNanoseconds: Int, maxRetryDelayNanoseconds: Int? = nil, healthCheckNanoseconds: Int? = nil,
                 gatherNanoseconds: Int = 2_000_000) {
        self.retryDelayNanoseconds = retryDelayNanoseconds
        self.maxRetryDelayNanoseconds = maxRetryDelayNanoseconds ?? retryDelayNanoseconds
        self.healthCheckNanoseconds = healthCheckNanoseconds
        self.gatherNanoseconds = gatherNanoseconds
    }

    /// The wait after the `attempt`th failure in a row (from 1).
    func retryDelay(attempt: Int) -> Int {
        min(maxRetryDelayNanoseconds, retryDelayNanoseconds << min(max(attempt - 1, 0), 16))
    }
}
