/// A log-linear histogram of durations in nanoseconds: exact below 128 ns, then 64 buckets per power of two
/// (at most 1.6 % error). Recording is two shifts and an increment; no allocation after `init`.
public struct LatencyHistogram: Sendable {
    private static let subBits = 6
    private static let subCount = 1 << subBits
    private var counts: [UInt64]
    /// How many values were recorded.
    public private(set) var count: UInt64 = 0
    /// The largest value recorded, in nanoseconds.
    public private(set) var max: UInt64 = 0
    /// The smallest value recorded, in nanoseconds (`UInt64.max` when empty).
    public private(set) var min: UInt64 = .max
    private var sum: Double = 0

    /// An empty histogram covering up to 2^50 ns (13 days).
    public init() {
        counts = Array(repeating: 0, count: (50 - Self.subBits + 1) * Self.subCount + Self.subCount)
    }

    @inline(__always)
    private static func exponent(_ value: UInt64) -> Int {
        Swift.max(0, (64 - value.leadingZeroBitCount) - (subBits + 1))
    }

    @inline(__always)
    private static func index(_ value: UInt64) -> Int {
        let e = exponent(value)
        return e * subCount + Int(value >> UInt64(e))
    }

    /// The middle of bucket `index`, in nanoseconds.
    private static func midpoint(_ index: Int) -> UInt64 {
        let e = index / subCount == 0 ? 0 : index / subCount - 1
        let mantissa = UInt64(index - e * subCount)
        let low = mantissa << UInt64(e)
        return low + ((UInt64(1) << UInt64(e)) >> 1)
    }

    /// Records one duration.
    public mutating func record(nanoseconds value: UInt64) {
        let i = Swift.min(Self.index(value), counts.count - 1)
        counts[i] += 1
        count += 1
        sum += Double(value)
        if value > max { max = value }
        if value < min { min = value }
    }

    /// The value at quantile `q` (0…1) in nanoseconds: the middle of the bucket holding it, never above `max`.
    /// Zero when empty.
    public func quantile(_ q: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let rank = Swift.max(1, UInt64((q * Double(count)).rounded(.up)))
        if rank >= count { return max }
        var seen: UInt64 = 0
        for (i, c) in counts.enumerated() where c > 0 {
            seen += c
            if seen >= rank { return Swift.min(Swift.max(Self.midpoint(i), min), max) }
        }
        return max
    }

    /// The mean in nanoseconds (zero when empty).
    public var mean: Double { count == 0 ? 0 : sum / Double(count) }

    /// Non-empty buckets as (lower bound ns, upper bound ns, count), in order: for drawing.
    public var buckets: [(low: UInt64, high: UInt64, count: UInt64)] {
        counts.enumerated().compactMap { i, c in
            guard c > 0 else { return nil }
            let e = i / Self.subCount == 0 ? 0 : i / Self.subCount - 1
            let low = UInt64(i - e * Self.subCount) << UInt64(e)
            return (low, low + (UInt64(1) << UInt64(e)), c)
        }
    }
}
