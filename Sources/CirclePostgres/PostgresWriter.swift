#if canImport(Glibc)
import Glibc
#endif
import CircleStore
import Synchronization

/// One queued operation with the id of its completion (0: none).
struct QueuedRecord: Sendable {
    var id: UInt64
    var operation: RecordOperation
}

/// The one thread that talks to PostgreSQL, with libpq's blocking API: it takes everything queued since its last
/// transaction as one batch and runs it as one transaction, posts the replies and wakes the loop.
///
/// While the server cannot be reached (down, restarting, a network cut) the writes wait, every one of them, and are
/// retried in order after `retryDelay` (doubling up to `maxRetryDelay`); reads answer at once with the error. A
/// statement the server refuses is handled as SQLite's writer does: idempotent writes are kept, the rest fail.
/// When idle it checks the connection every `healthCheckInterval`, so that `health` tells of an outage early.
final class PostgresWriter: @unchecked Sendable {  // its mutable state is guarded by `mutex`
    struct Timing: Sendable {
        var retryDelayNanoseconds: Int
        var maxRetryDelayNanoseconds: Int
        var healthCheckNanoseconds: Int
        var connectTimeoutSeconds: Int
    }

    private let url: PostgresURL
    private let timing: Timing
    private let wake: @Sendable () -> Void
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let work = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let idle = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var thread = pthread_t()
    private var started = false
    /// Used by the writer thread only (handed over before it starts).
    private var connection: PostgresConnection?

    // Guarded by `mutex`.
    private var incoming: [QueuedRecord] = []
    private var replies: [(UInt64, RecordReply)] = []
    private var busy = false
    private var stopping = false
    private var counters = StoreStats()
    private var healthState = StoreHealth.ok
    private var reconnects: UInt64 = 0

    /// Operations handed over and not yet committed (or failed): read by the loop without a lock for the bound.
    let inFlight = Atomic<Int>(0)

    init(url: PostgresURL, connection: PostgresConnection, timing: Timing, wake: @escaping @Sendable () -> Void) {
        self.url = url
        self.connection = connection
        self.timing = timing
        self.wake = wake
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(work, nil)
        pthread_cond_init(idle, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(work)
        pthread_cond_destroy(idle)
        mutex.deallocate()
        work.deallocate()
        idle.deallocate()
    }

    func start() {
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, { context in
            let writer = Unmanaged<PostgresWriter>.fromOpaque(context!).takeRetainedValue()
            writer.run()
            return nil
        }, context)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        started = true
    }

    /// Hands a batch over (loop thread).
    func submit(_ batch: [QueuedRecord]) {
        inFlight.add(batch.count, ordering: .relaxed)
        locked {
            if incoming.isEmpty { incoming = batch } else { incoming.append(contentsOf: batch) }
            pthread_cond_signal(work)
        }
    }

    /// Takes the replies that are ready (loop thread).
    func takeReplies() -> [(UInt64, RecordReply)] {
        locked {
            let ready = replies
            replies = []
            return ready
        }
    }

    var stats: StoreStats { locked { counters } }
    var health: StoreHealth { locked { healthState } }
    /// Connections made again after one was lost.
    var reconnectCount: UInt64 { locked { reconnects } }

    /// Blocks until everything handed over is committed, or until the server fails (then returns false).
    @discardableResult func waitIdle() -> Bool {
        locked {
            while (busy || !incoming.isEmpty) && healthState == .ok { pthread_cond_wait(idle, mutex) }
            return healthState == .ok
        }
    }

    /// Commits what is queued (trying at most three more times while failing), then ends the thread.
    func stop() {
        locked {
            stopping = true
            pthread_cond_signal(work)
        }
        if started { pthread_join(thread, nil) }
        started = false
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    // MARK: The writer thread

    private func run() {
        var retry: [QueuedRecord] = []
        var failedAttempts = 0
        while true {
            pthread_mutex_lock(mutex)
            var timedOut = false
            while incoming.isEmpty && retry.isEmpty && !stopping && !timedOut {
                timedOut = wait(work, nanoseconds: timing.healthCheckNanoseconds)
            }
            if stopping && (incoming.isEmpty && retry.isEmpty || failedAttempts >= 3) {
                counters.writesAbandoned += UInt64(retry.count + incoming.count)
                busy = false
                pthread_cond_broadcast(idle)
                pthread_mutex_unlock(mutex)
                connection?.close()
                return
            }
            if incoming.isEmpty && retry.isEmpty {
                pthread_mutex_unlock(mutex)
                checkHealth()
                continue
            }
            var taken: [QueuedRecord] = []
            swap(&taken, &incoming)  // O(1): the loop never waits behind a copy
            busy = true
            pthread_mutex_unlock(mutex)
            let batch = retry.isEmpty ? taken : retry + taken

            let outcome = commit(batch)
            pthread_mutex_lock(mutex)
            switch outcome {
            case let .committed(batchReplies):
                counters.transactions += 1
                counters.writesCommitted += UInt64(batch.count)
                replies.append(contentsOf: batchReplies)
                healthState = .ok
                retry = []
                failedAttempts = 0
                inFlight.subtract(batch.count, ordering: .relaxed)
            case let .failed(error, kept, batchReplies):
                counters.failedBatches += 1
                healthState = .failing(error)
                replies.append(contentsOf: batchReplies)
                failedAttempts += 1
                retry = Self.coalesced(kept)
                inFlight.subtract(batch.count - retry.count, ordering: .relaxed)
            }
            busy = !retry.isEmpty
            pthread_cond_broadcast(idle)
            let wakeLoop = !replies.isEmpty
            pthread_mutex_unlock(mutex)
            if wakeLoop { wake() }
            if !retry.isEmpty { sleepBeforeRetry(attempt: failedAttempts) }
        }
    }

    /// Waits on `condition` (mutex held) for at most `nanoseconds`; true when the time ran out.
    private func wait(_ condition: UnsafeMutablePointer<pthread_cond_t>, nanoseconds: Int) -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let total = Int(now.tv_nsec) + nanoseconds
        var deadline = timespec(tv_sec: now.tv_sec + total / 1_000_000_000, tv_nsec: total % 1_000_000_000)
        return pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT
    }

    private func sleepBeforeRetry(attempt: Int) {
        let delay = min(timing.maxRetryDelayNanoseconds,
                        timing.retryDelayNanoseconds << min(max(attempt - 1, 0), 16))
        locked {
            guard !stopping else { return }
            _ = wait(work, nanoseconds: delay)
        }
    }

    /// Idle: a round trip tells whether the server is still there (and reconnects when it is back).
    private func checkHealth() {
        var error: StoreError?
        do throws(StoreError) {
            try connected().execute("SELECT 1")
        } catch let failure {
            error = failure
            if connection?.isUp != true { connection = nil }
        }
        locked { healthState = error.map { .failing($0) } ?? .ok }
    }

    /// The connection, made again (and the schema checked) when it was lost.
    private func connected() throws(StoreError) -> PostgresConnection {
        if let connection, connection.isUp { return connection }
        connection?.close()
        connection = nil
        let fresh = try PostgresConnection(url: url, timeoutSeconds: timing.connectTimeoutSeconds)
        try PostgresBackend.prepare(fresh)
        connection = fresh
        locked { reconnects += 1 }
        return fresh
    }

    private enum Outcome {
        case committed([(UInt64, RecordReply)])
        case failed(StoreError, kept: [QueuedRecord], [(UInt64, RecordReply)])
    }

    /// One transaction for the whole batch.
    private func commit(_ batch: [QueuedRecord]) -> Outcome {
        var batchReplies: [(UInt64, RecordReply)] = []
        let db: PostgresConnection
        do throws(StoreError) {
            db = try connected()
        } catch {
            return unreachable(batch, error)
        }
        var committing = false
        do throws(StoreError) {
            try db.execute("BEGIN")
            for item in batch {
                let reply = try PostgresBackend.apply(item.operation, db)
                if item.id != 0 { batchReplies.append((item.id, reply)) }
            }
            committing = true
            try db.execute("COMMIT")
            return .committed(batchReplies)
        } catch {
            if db.isUp { _ = try? db.execute("ROLLBACK") }
            // Lost before COMMIT was sent: nothing was written, so every write waits for the server to come back.
            if !db.isUp && !committing {
                connection = nil
                return unreachable(batch, error)
            }
            // Refused by the server, or lost while committing (it may have committed): as SQLite's writer does,
            // idempotent writes are kept to retry, and the rest get the error now so that the caller decides.
            if !db.isUp { connection = nil }
            var kept: [QueuedRecord] = []
            var failures: [(UInt64, RecordReply)] = []
            for var item in batch {
                if item.id != 0 { failures.append((item.id, .failed(error))) }
                if item.operation.retriable {
                    item.id = 0
                    kept.append(item)
                }
            }
            return .failed(error, kept: kept, failures)
        }
    }

    /// The server could not be reached: reads fail now, writes (with their completions) wait to be retried.
    private func unreachable(_ batch: [QueuedRecord], _ error: StoreError) -> Outcome {
        var kept: [QueuedRecord] = []
        var failures: [(UInt64, RecordReply)] = []
        for item in batch {
            if item.operation.isRead {
                failures.append((item.id, .failed(error)))
            } else {
                kept.append(item)
            }
        }
        return .failed(error, kept: kept, failures)
    }

    /// Attendance is written whole: of several waiting rows for the same person and session, the last is enough.
    /// So an outage keeps one row per person per session, however often their counts changed.
    static func coalesced(_ items: [QueuedRecord]) -> [QueuedRecord] {
        struct Key: Hashable { var group: String, session: Int, sub: String }
        var seen: Set<Key> = []
        var out: [QueuedRecord] = []
        out.reserveCapacity(items.count)
        for item in items.reversed() {
            if item.id == 0, case let .attendance(r) = item.operation,
               !seen.insert(Key(group: r.group, session: r.session, sub: r.sub)).inserted { continue }
            out.append(item)
        }
        return out.reversed()
    }
}
