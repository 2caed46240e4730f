#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// One queued operation with the id of its completion (0: none) and whether it must be fully synced.
struct QueuedOperation: Sendable {
    var id: UInt64
    var operation: StoreOperation
    var durable: Bool
}

/// The one thread that writes: it takes everything queued since its last transaction as one batch, runs it as one
/// transaction, posts the replies and wakes the loop. A batch that fails (disk full, I/O error) is rolled back;
/// its idempotent writes are kept and retried first, after `retryDelay`, so that nothing is lost silently.
final class WriterThread: @unchecked Sendable {  // its mutable state is guarded by `mutex`
    private let backend: SQLiteBackend
    private let wake: @Sendable () -> Void
    private let retryDelayNanoseconds: Int
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let work = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let idle = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var thread = pthread_t()
    private var started = false

    // Guarded by `mutex`.
    private var incoming: [QueuedOperation] = []
    private var replies: [(UInt64, StoreReply)] = []
    private var busy = false
    private var stopping = false
    private var counters = StoreStats()
    private var healthState = StoreHealth.ok

    /// Operations handed over and not yet committed (or failed): read by the loop without a lock for the bound.
    let inFlight = Atomic<Int>(0)
    let inFlightBytes = Atomic<Int>(0)

    init(backend: SQLiteBackend, retryDelayNanoseconds: Int, wake: @escaping @Sendable () -> Void) {
        self.backend = backend
        self.wake = wake
        self.retryDelayNanoseconds = retryDelayNanoseconds
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
            let writer = Unmanaged<WriterThread>.fromOpaque(context!).takeRetainedValue()
            writer.run()
            return nil
        }, context)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        started = true
    }

    /// Hands a batch over (loop thread).
    func submit(_ batch: [QueuedOperation], bytes: Int) {
        inFlight.add(batch.count, ordering: .relaxed)
        inFlightBytes.add(bytes, ordering: .relaxed)
        pthread_mutex_lock(mutex)
        // O(1) under the lock when the writer has taken the last batch (the usual case).
        if incoming.isEmpty { incoming = batch } else { incoming.append(contentsOf: batch) }
        pthread_cond_signal(work)
        pthread_mutex_unlock(mutex)
    }

    /// Takes the replies that are ready (loop thread).
    func takeReplies() -> [(UInt64, StoreReply)] {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        let ready = replies
        replies = []
        return ready
    }

    var stats: StoreStats {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return counters
    }

    var health: StoreHealth {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return healthState
    }

    /// Blocks until everything handed over is committed, or until a batch fails (then returns false).
    @discardableResult func waitIdle() -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while (busy || !incoming.isEmpty) && healthState == .ok { pthread_cond_wait(idle, mutex) }
        return healthState == .ok
    }

    /// Commits what is queued (retrying for at most `graceNanoseconds` while failing), then ends the thread.
    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_signal(work)
        pthread_mutex_unlock(mutex)
        if started { pthread_join(thread, nil) }
        started = false
    }

    private func run() {
        var retry: [QueuedOperation] = []
        var failedAttempts = 0
        while true {
            pthread_mutex_lock(mutex)
            while incoming.isEmpty && retry.isEmpty && !stopping { pthread_cond_wait(work, mutex) }
            if stopping && (incoming.isEmpty && retry.isEmpty || failedAttempts >= 3) {
                counters.writesAbandoned += UInt64(retry.count + incoming.count)
                busy = false
                pthread_cond_broadcast(idle)
                pthread_mutex_unlock(mutex)
                return
            }
            var taken: [QueuedOperation] = []
            swap(&taken, &incoming)  // O(1): the loop never waits behind a copy
            busy = true
            pthread_mutex_unlock(mutex)
            let batch = retry.isEmpty ? taken : retry + taken

            let outcome = commit(batch)
            pthread_mutex_lock(mutex)
            switch outcome {
            case let .committed(batchReplies, bytes):
                counters.transactions += 1
                counters.writesCommitted += UInt64(batch.count)
                counters.bytesCommitted += UInt64(bytes)
                replies.append(contentsOf: batchReplies)
                healthState = .ok
                retry = []
                failedAttempts = 0
                inFlight.subtract(batch.count, ordering: .relaxed)
                inFlightBytes.subtract(bytes, ordering: .relaxed)
            case let .failed(error, kept, batchReplies):
                counters.failedBatches += 1
                healthState = .failing(error)
                replies.append(contentsOf: batchReplies)
                failedAttempts += 1
                let dropped = batch.count - kept.count
                inFlight.subtract(dropped, ordering: .relaxed)
                retry = kept
            }
            busy = !retry.isEmpty
            pthread_cond_broadcast(idle)
            let wakeLoop = !replies.isEmpty
            pthread_mutex_unlock(mutex)
            if wakeLoop { wake() }
            if !retry.isEmpty { sleepBeforeRetry() }
        }
    }

    private func sleepBeforeRetry() {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard !stopping else { return }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let total = Int(now.tv_nsec) + retryDelayNanoseconds
        var deadline = timespec(tv_sec: now.tv_sec + total / 1_000_000_000, tv_nsec: total % 1_000_000_000)
        _ = pthread_cond_timedwait(work, mutex, &deadline)
    }

    private enum Outcome {
        case committed([(UInt64, StoreReply)], bytes: Int)
        case failed(StoreError, kept: [QueuedOperation], [(UInt64, StoreReply)])
    }

    /// One transaction for the whole batch; a durable write in it makes the commit a full sync.
    private func commit(_ batch: [QueuedOperation]) -> Outcome {
        let durable = batch.contains { $0.durable }
        var batchReplies: [(UInt64, StoreReply)] = []
        var bytes = 0
        do throws(StoreError) {
            if durable { try backend.database.execute("PRAGMA synchronous=FULL") }
            defer { if durable { try? backend.database.execute("PRAGMA synchronous=NORMAL") } }
            try backend.database.execute("BEGIN IMMEDIATE")
            do throws(StoreError) {
                for item in batch {
                    let reply = try backend.apply(item.operation)
                    bytes += item.operation.payloadBytes
                    if item.id != 0 { batchReplies.append((item.id, reply)) }
                }
                try backend.database.execute("COMMIT")
            } catch {
                try? backend.database.execute("ROLLBACK")
                throw error
            }
            return .committed(batchReplies, bytes: bytes)
        } catch {
            // Writes that carry no answer (or only an acknowledgement) are idempotent: keep them, in order, to
            // retry. Reads and numbered writes get the error now and are not retried, so the caller decides.
            var kept: [QueuedOperation] = []
            var failures: [(UInt64, StoreReply)] = []
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
}

extension StoreOperation {
    /// Writes that can run again after a failed batch with the same result.
    var retriable: Bool {
        switch self {
        case .event, .snapshot, .safety, .dropRoom, .closeSession, .attendance: true
        case .openSession, .deleteRecords, .erase, .loadRoom, .listRooms, .sessions, .attendanceQuery: false
        }
    }
}
