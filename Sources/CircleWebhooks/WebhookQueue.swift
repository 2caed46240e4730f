/// When a failed delivery is tried again: after 1 s, then twice as long each time up to 5 minutes, 10 attempts in
/// all (about 8.5 minutes from the first).
public struct WebhookRetryPolicy: Sendable {
    public var maxAttempts = 10
    public var firstDelaySeconds = 1.0
    public var maxDelaySeconds = 300.0

    public init() {}

    func delaySeconds(afterAttempts attempts: Int) -> Double {
        var d = firstDelaySeconds
        for _ in 1..<max(attempts, 1) where d < maxDelaySeconds { d *= 2 }
        return min(d, maxDelaySeconds)
    }
}

/// The deliveries waiting, each with the time it is due (the sender's monotonic seconds). Bounded: when full a new
/// event is refused, and the caller counts it, rather than an older one being dropped unseen.
struct WebhookQueue {
    struct Entry {
        let event: WebhookEvent
        var attempts = 0
        var due: Double
    }

    let capacity: Int
    private(set) var entries: [Entry] = []

    init(capacity: Int) { self.capacity = capacity }

    var isEmpty: Bool { entries.isEmpty }

    mutating func add(_ event: WebhookEvent, now: Double) -> Bool {
        guard entries.count < capacity else { return false }
        entries.append(Entry(event: event, due: now))
        return true
    }

    /// The earliest due time; an entry added earlier goes first among equals.
    var nextDue: Double? { entries.indices.min(by: earlier).map { entries[$0].due } }

    /// Removes and returns the entry due first, if it is due by `now`.
    mutating func takeDue(now: Double) -> Entry? {
        guard let i = entries.indices.min(by: earlier), entries[i].due <= now else { return nil }
        return entries.remove(at: i)
    }

    /// Puts a failed entry back for its next attempt; false when it has had all its attempts.
    mutating func retry(_ entry: Entry, now: Double, policy: WebhookRetryPolicy) -> Bool {
        guard entry.attempts < policy.maxAttempts else { return false }
        var e = entry
        e.due = now + policy.delaySeconds(afterAttempts: e.attempts)
        entries.append(e)
        return true
    }

    private func earlier(_ a: Int, _ b: Int) -> Bool { entries[a].due < entries[b].due }
}
