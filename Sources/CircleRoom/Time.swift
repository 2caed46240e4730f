/// A point on the owning node's monotonic clock, in nanoseconds since an arbitrary origin.
///
/// The engine never reads a clock: every call carries the current instant, and tests drive a manual clock.
/// Instants are only meaningful on the node that produced them.
public struct Instant: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// Nanoseconds since the clock's origin.
    public var nanoseconds: UInt64

    /// An instant `nanoseconds` after the clock's origin.
    public init(nanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
    }

    /// The clock's origin.
    public static let zero = Instant(nanoseconds: 0)

    /// An instant a whole number of seconds after the origin (convenient in tests and tools).
    public static func seconds(_ seconds: UInt64) -> Instant {
        Instant(nanoseconds: seconds * 1_000_000_000)
    }

    public static func < (lhs: Instant, rhs: Instant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    /// The instant `duration` later (saturating; a negative duration counts as zero).
    public static func + (lhs: Instant, rhs: Duration) -> Instant {
        let (sum, overflow) = lhs.nanoseconds.addingReportingOverflow(rhs.clampedNanoseconds)
        return Instant(nanoseconds: overflow ? .max : sum)
    }

    /// The instant `duration` earlier (saturating at the origin).
    public static func - (lhs: Instant, rhs: Duration) -> Instant {
        let nanos = rhs.clampedNanoseconds
        return Instant(nanoseconds: lhs.nanoseconds > nanos ? lhs.nanoseconds - nanos : 0)
    }

    /// The time from `rhs` to `lhs`, or zero if `rhs` is later.
    public static func - (lhs: Instant, rhs: Instant) -> Duration {
        guard lhs.nanoseconds > rhs.nanoseconds else { return .zero }
        let delta = lhs.nanoseconds - rhs.nanoseconds
        return .nanoseconds(Int64(clamping: delta))
    }

    public var description: String { "\(nanoseconds)ns" }
}

extension Duration {
    /// This duration in whole nanoseconds, clamped to `0...UInt64.max` (negative durations count as zero).
    public var clampedNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        let (sum, overflow2) = whole.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000))
        return overflow2 ? .max : sum
    }

    /// This duration in whole milliseconds, rounded down and clamped at zero: the unit of every duration on the wire.
    public var wholeMilliseconds: Int64 {
        Int64(clamping: clampedNanoseconds / 1_000_000)
    }
}
