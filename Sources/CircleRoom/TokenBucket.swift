/// A token bucket over the room's instants: `burst` tokens, one back per `refill`.
public struct TokenBucket: Hashable, Sendable, Codable {
    private var tokens: Int
    private var refilledAt: Instant

    /// A full bucket.
    public init(burst: Int, now: Instant) {
        tokens = max(0, burst)
        refilledAt = now
    }

    /// Takes one token if there is one (after refilling for the time passed).
    public mutating func take(now: Instant, burst: Int, refill: Duration) -> Bool {
        let interval = refill.clampedNanoseconds
        if interval == 0 { return true }
        if now > refilledAt {
            let gained = (now.nanoseconds - refilledAt.nanoseconds) / interval
            if gained > 0 {
                let total = UInt64(max(0, tokens)) + gained
                if total >= UInt64(max(0, burst)) {
                    tokens = max(0, burst)
                    refilledAt = now
                } else {
                    tokens = Int(total)
                    refilledAt = Instant(nanoseconds: refilledAt.nanoseconds + gained * interval)
                }
            }
        }
        guard tokens > 0 else { return false }
        tokens -= 1
        return true
    }
}
