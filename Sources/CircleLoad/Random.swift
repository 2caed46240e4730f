import CircleRoom

/// SplitMix64: a tiny, fast, seedable generator, so that a run's choices are reproducible per client.
struct SplitMix: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in `0..<1`.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A uniform duration in nanoseconds between `low` and `high` seconds.
    mutating func nanoseconds(_ low: Double, _ high: Double) -> UInt64 {
        UInt64((low + (high - low) * unit()) * 1e9)
    }
}

/// Keeps a client under the server's message rate limit, with the server's own rate bucket.
struct Pacer {
    private var bucket: RateBucket
    private let burst: Int
    private let refill: Duration

    init(ratePerSecond: Double, burst: Double, now: UInt64) {
        self.burst = max(1, Int(burst))
        refill = .nanoseconds(Int64(1e9 / max(ratePerSecond, 1e-9)))
        bucket = RateBucket(burst: self.burst, now: Instant(nanoseconds: now))
    }

    /// Takes one credit if there is one.
    mutating func take(now: UInt64) -> Bool {
        bucket.take(now: Instant(nanoseconds: now), burst: burst, refill: refill)
    }
}
