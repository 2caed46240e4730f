#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The one thread that writes, whatever the backend: it takes everything queued since its last transaction as one
/// batch, runs it as one transaction, posts the replies and wakes the loop.
///
/// A batch the backend refuses (disk full, I/O error, a statement the server rejects) is rolled back; its
/// idempotent writes are kept and retried first, after `timing`'s delay, so that nothing is lost silently; the
/// rest get the error. While the backend cannot be reached (PostgreSQL down) every write waits and reads fail at
/// once. Attendance waiting to be retried is kept one row per person per session (the last).
final class WriterThread: @unchecked Sendable {  // its mutable state is guarded by `mutex`
    private let backend: any StoreBackend
    private let timing: WriterTiming
    private let wake: @Sendable () -> Void
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

    init(backend: any StoreBackend, timing: WriterTiming, wake: @escaping @Sendable () -> Void) {
        self.backend = backend
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
        locked {
            // O(1) under the lock when the writer has taken the last batch (the usual case).
            if incoming.isEmpty { incoming = batch } else { incoming.append(contentsOf: batch) }
            pthread_cond_signal(work)
        }
    }

    /// Takes the replies that are ready (loop thread).
    func takeReplies() -> [(UInt64, StoreReply)] {
        locked {
            let ready = replies
            replies = []
            return ready
        }
    }

    var stats: StoreStats { locked { counters } }
    var health: StoreHealth { locked { healthState } }

    /// Blocks until everything handed over is committed, or until a batch fails (then returns false).
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
        var retry: [QueuedOperation] = []
        var failedAttempts = 0
        while true {
            pthread_mutex_lock(mutex)
            var timedOut = false
            while incoming.isEmpty && retry.isEmpty && !stopping && !timedOut {
                if let interval = timing.healthCheckNanoseconds {
                    timedOut = wait(work, nanoseconds: interval)
                } else {
                    pthread_cond_wait(work, mutex)
                }
            }
            if stopping && (incoming.isEmpty && retry.isEmpty || failedAttempts >= 3) {
                counters.writesAbandoned += UInt64(retry.count + incoming.count)
                busy = false
                pthread_cond_broadcast(idle)
                pthread_mutex_unlock(mutex)
                backend.close()
                return
            }
            if incoming.isEmpty && retry.isEmpty {
                pthread_mutex_unlock(mutex)
                checkHealth()
                continue
            }
            if timing.gatherNanoseconds > 0 && retry.isEmpty && !stopping && !incoming.contains(where: \.durable) {
                pthread_mutex_unlock(mutex)
                var pause = timespec(tv_sec: 0, tv_nsec: timing.gatherNanoseconds)
                nanosleep(&pause, nil)
                pthread_mutex_lock(mutex)
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
                retry = Self.coalesced(kept)
                inFlight.subtract(batch.count - retry.count, ordering: .relaxed)
                inFlightBytes.subtract(Self.bytes(batch) - Self.bytes(retry), ordering: .relaxed)
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
        locked {
            guard !stopping else { return }
            _ = wait(work, nanoseconds: timing.retryDelay(attempt: attempt))
        }
    }

    /// Idle: a round trip tells whether the backend is still there (and reconnects when it is back).
    private func checkHealth() {
        var error: StoreError?
        do throws(StoreError) {
            try backend.connect()
            try backend.checkHealth()
        } catch let failure {
            error = failure
        }
        locked { healthState = error.map { .failing($0) } ?? .ok }
    }

    private enum Outcome {
        case committed([(UInt64, StoreReply)], bytes: Int)
        case failed(StoreError, kept: [QueuedOperation], [(UInt64, StoreReply)])
    }

    /// One transaction for the whole batch; a durable write in it makes the commit a full sync.
    private func commit(_ batch: [QueuedOperation]) -> Outcome {
        do throws(StoreError) {
            try backend.connect()
        } catch {
            return unreachable(batch, error)
        }
        var batchReplies: [(UInt64, StoreReply)] = []
        var bytes = 0
        var committing = false
        do throws(StoreError) {
            try backend.begin(durable: batch.contains { $0.durable })
            for item in batch {
                let reply = try backend.apply(item.operation)
                bytes += item.operation.payloadBytes
                if item.id != 0 { batchReplies.append((item.id, reply)) }
            }
            committing = true
            try backend.commit()
            return .committed(batchReplies, bytes: bytes)
        } catch {
            backend.rollback()
            // Lost before COMMIT was sent: nothing was written, so every write waits for the backend to come back.
            if !backend.isConnected && !committing { return unreachable(batch, error) }
            // Refused, or lost while committing (it may have committed): writes that carry no answer (or only an
            // acknowledgement) are idempotent: keep them, in order, to retry. Reads and numbered writes get the
            // error now and are not retried, so the caller decides.
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

    /// The backend could not be reached: reads fail now, writes (with their completions) wait to be retried.
    private func unreachable(_ batch: [QueuedOperation], _ error: StoreError) -> Outcome {
        var kept: [QueuedOperation] = []
        var failures: [(UInt64, StoreReply)] = []
        for item in batch {
            if item.operation.isRead {
                failures.append((item.id, .failed(error)))
            } else {
                kept.append(item)
            }
        }
        return .failed(error, kept: kept, failures)
    }

    private static func bytes(_ items: [QueuedOperation]) -> Int {
        items.reduce(0) { $0 + $1.operation.payloadBytes }
    }

    /// Attendance is written whole: of several waiting rows for the same person and session, the last is enough.
    /// So an outage keeps one row per person per session, however often their counts changed.
    static func coalesced(_ items: [QueuedOperation]) -> [QueuedOperation] {
        struct Key: Hashable { var group: String, session: Int, sub: String }
        var seen: Set<Key> = []
        var out: [QueuedOperation] = []
        out.reserveCapacity(items.count)
        for item in items.reversed() {
            if item.id == 0, case let .attendance(r) = item.operation,
               !seen.insert(Key(group: r.group, session: r.session, sub: r.sub)).inserted { continue }
            out.append(item)
        }
        return out.reversed()
    }
}
