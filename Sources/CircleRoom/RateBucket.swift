/// A rate limit over the room's instants (the token-bucket algorithm): `burst` credits, one back per `refill`.
/// 12 bytes, so that whatever follows it in a struct takes its last word's spare four (RoomFootprintTests).
public struct RateBucket: Hashable, Sendable, Codable {
    private(set) var refilledAt: Instant
    private(set) var credits: Int32

    /// A full bucket.
    public init(burst: Int, now: Instant) {
        refilledAt = now
        credits = Int32(clamping: max(0, burst))
    }

    /// Takes one credit if there is one (after refilling for the time passed).
    public mutating func take(now: Instant, burst: Int, refill: Duration) -> Bool {
        let interval = refill.clampedNanoseconds
        if interval == 0 { return true }
        if now > refilledAt {
            let gained = (now.nanoseconds - refilledAt.nanoseconds) / interval
            if gained > 0 {
                let total = UInt64(max(0, credits)) + gained
                if total >= UInt64(max(0, burst)) {
                    credits = Int32(clamping: max(0, burst))
                    refilledAt = now
                } else {
                    credits = Int32(total)
                    refilledAt = Instant(nanoseconds: refilledAt.nanoseconds + gained * interval)
                }
            }
        }
        guard credits > 0 else { return false }
        credits -= 1
        return true
    }
}
