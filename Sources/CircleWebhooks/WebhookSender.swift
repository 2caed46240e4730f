import CCurl
import Glibc

/// Delivers webhooks from its own thread: the loop hands an event over (`send`, a lock and a signal, never I/O) and
/// goes on; the sender POSTs each one with libcurl, signed, in due order, and retries failures with backoff.
public final class WebhookSender: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var url: String
        public var key: WebhookSigningKey
        public var capacity = 10_000
        public var retry = WebhookRetryPolicy()
        public var timeoutSeconds = 10

        public init(url: String, key: WebhookSigningKey) {
            self.url = url
            self.key = key
        }
    }

    /// What happened to deliveries so far.
    public struct Counts: Sendable, Equatable {
        public var delivered = 0
        /// Attempts that failed and were scheduled again.
        public var retried = 0
        /// Events given up on: every attempt failed, or the sender stopped before they went out.
        public var failed = 0
        /// Events refused because the queue was full.
        public var dropped = 0
        public var waiting = 0
    }

    public enum Outcome: Sendable {
        case delivered(WebhookEvent.Kind, attempts: Int)
        case retrying(WebhookEvent.Kind, attempts: Int, reason: String)
        case failed(WebhookEvent.Kind, attempts: Int, reason: String)
        case dropped(WebhookEvent.Kind)
    }

    private let configuration: Configuration
    private let onOutcome: @Sendable (Outcome) -> Void
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wakeup = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Guarded by `mutex`.
    private var queue: WebhookQueue
    private var tally = Counts()
    private var stopDeadline: Double?
    private var thread: pthread_t?

    /// `onOutcome` runs on the sender's thread (for logs and metrics; it must not block).
    public init(_ configuration: Configuration, onOutcome: @escaping @Sendable (Outcome) -> Void = { _ in }) {
        self.configuration = configuration
        self.onOutcome = onOutcome
        queue = WebhookQueue(capacity: configuration.capacity)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(wakeup, &attributes)
        pthread_condattr_destroy(&attributes)
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }

    deinit {
        pthread_cond_destroy(wakeup)
        pthread_mutex_destroy(mutex)
        wakeup.deallocate()
        mutex.deallocate()
    }

    public func start() {
        precondition(thread == nil, "started twice")
        var t = pthread_t()
        let rc = pthread_create(&t, nil, { context in
            Unmanaged<WebhookSender>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, Unmanaged.passRetained(self).toOpaque())
        precondition(rc == 0, "pthread_create failed: \(rc)")
        thread = t
    }

    /// Queues an event for delivery; false (and counted as dropped) when the queue is full.
    @discardableResult
    public func send(_ event: WebhookEvent) -> Bool {
        let added = locked {
            let added = stopDeadline == nil && queue.add(event, now: Self.now())
            if !added { tally.dropped += 1 }
            return added
        }
        if added { pthread_cond_signal(wakeup) } else { onOutcome(.dropped(event.kind)) }
        return added
    }

    /// Tries everything still waiting once more, retry times aside, for up to `seconds`; then gives up on the
    /// rest (counted as failed) and returns when the thread has ended.
    public func stop(drainingFor seconds: Double) {
        locked { stopDeadline = Self.now() + seconds }
        pthread_cond_signal(wakeup)
        if let t = thread { pthread_join(t, nil) }
        thread = nil
    }

    public var counts: Counts {
        locked {
            var c = tally
            c.waiting = queue.entries.count
            return c
        }
    }

    // MARK: - The sender's thread

    private func run() {
        guard let curl = curl_easy_init() else {
            locked { tally.failed += queue.entries.count }
            return
        }
        defer { curl_easy_cleanup(curl) }
        while let entry = nextEntry() {
            var e = entry
            e.attempts += 1
            let failure = post(e.event, curl: curl)
            let outcome: Outcome = locked {
                guard let reason = failure else {
                    tally.delivered += 1
                    return .delivered(e.event.kind, attempts: e.attempts)
                }
                if stopDeadline == nil, queue.retry(e, now: Self.now(), policy: configuration.retry) {
                    tally.retried += 1
                    return .retrying(e.event.kind, attempts: e.attempts, reason: reason)
                }
                tally.failed += 1
                return .failed(e.event.kind, attempts: e.attempts, reason: reason)
            }
            onOutcome(outcome)
        }
    }

    /// Waits for the next entry that is due; nil when stopping and nothing is left (or the time is up).
    private func nextEntry() -> WebhookQueue.Entry? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while true {
            let now = Self.now()
            if let deadline = stopDeadline {
                if queue.isEmpty { return nil }
                if now >= deadline {
                    for e in queue.entries { onOutcome(.failed(e.event.kind, attempts: e.attempts, reason: "stopped")) }
                    tally.failed += queue.entries.count
                    while queue.takeDue(now: .infinity) != nil {}
                    return nil
                }
                return queue.takeDue(now: .infinity)
            }
            if let e = queue.takeDue(now: now) { return e }
            if let due = queue.nextDue {
                var until = timespec(tv_sec: Int(due), tv_nsec: Int((due - due.rounded(.down)) * 1e9))
                pthread_cond_timedwait(wakeup, mutex, &until)
            } else {
                pthread_cond_wait(wakeup, mutex)
            }
        }
    }

    /// One signed POST; nil when the receiver answered 2xx, else why not.
    private func post(_ event: WebhookEvent, curl: UnsafeMutableRawPointer) -> String? {
        let timestamp = Self.unixSeconds()
        let signature = configuration.key.signature(id: event.id, timestamp: timestamp, body: event.body)
        var headers: UnsafeMutablePointer<curl_slist>?
        for h in ["Content-Type: application/json", "User-Agent: Circle-Webhooks/1", "webhook-id: \(event.id)",
                  "webhook-timestamp: \(timestamp)", "webhook-signature: \(signature)", "Expect:"] {
            headers = curl_slist_append(headers, h)
        }
        defer { curl_slist_free_all(headers) }
        let result: CURLcode = configuration.url.withCString { url in
            event.body.withUnsafeBytes { body in
                circle_curl_set_pointer(curl, CURLOPT_URL, url)
                circle_curl_set_pointer(curl, CURLOPT_HTTPHEADER, headers)
                circle_curl_set_pointer(curl, CURLOPT_POSTFIELDS, body.baseAddress)
                circle_curl_set_size(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                circle_curl_set_long(curl, CURLOPT_TIMEOUT_MS, configuration.timeoutSeconds * 1000)
                circle_curl_set_long(curl, CURLOPT_NOSIGNAL, 1)
                circle_curl_set_long(curl, CURLOPT_FOLLOWLOCATION, 0)
                circle_curl_set_pointer(curl, CURLOPT_PROTOCOLS_STR, "http,https")
                circle_curl_set_write_function(curl) { _, size, count, _ in size * count }
                return curl_easy_perform(curl)
            }
        }
        guard result == CURLE_OK else { return String(cString: curl_easy_strerror(result)) }
        var status = 0
        circle_curl_response_code(curl, &status)
        return (200..<300).contains(status) ? nil : "HTTP \(status)"
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    private static func unixSeconds() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return ts.tv_sec
    }
}
