/// A token bucket over the room's instants: `burst` tokens, one back per `refill`.
public struct TokenBucket: Hashable, Sendable, Codable {
    // The instant first, so that the 32-bit count leaves the struct's last four bytes to whatever follows it.
    private var refilledAt: Instant
    private var tokens: Int32

    /// A full bucket.
    public init(burst: Int, now: Instant) {
        refilledAt = now
        tokens = Int32(clamping: max(0, burst))
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
                    tokens = Int32(clamping: max(0, burst))
                    refilledAt = now
                } else {
                    tokens = Int32(total)
                    refilledAt = Instant(nanoseconds: refilledAt.nanoseconds + gained * interval)
                }
            }
        }
        guard tokens > 0 else { return false }
        tokens -= 1
        return true
    }
}
