/// Turn pacing: how long a turn lasts, when the speaker is nudged, and whether the turn ends at zero.
public struct Pacing: Hashable, Sendable, Codable {
    /// The turn length, or `nil` for unpaced turns (no nudges, no time-up).
    public var turnLength: Duration?
    /// How long before the end the speaker and the facilitators get a time-left nudge; zero for none.
    public var nudgeBefore: Duration
    /// Whether a turn ends by itself when its time is up (and the floor moves on).
    public var autoAdvance: Bool

    /// A pacing.
    public init(turnLength: Duration? = nil, nudgeBefore: Duration = .seconds(30), autoAdvance: Bool = false) {
        self.turnLength = turnLength
        self.nudgeBefore = nudgeBefore
        self.autoAdvance = autoAdvance
    }

    /// Unpaced turns, auto-advance off.
    public static let unpaced = Pacing()

    /// Shortest and longest paced turn the engine accepts.
    public static let turnLengthRange: ClosedRange<Duration> = .seconds(1) ... .seconds(3600)

    /// Whether this pacing is acceptable: turn length in range, nudge within `0..<turnLength`.
    public var isValid: Bool {
        if let turnLength {
            return Self.turnLengthRange.contains(turnLength) && nudgeBefore >= .zero && nudgeBefore < turnLength
        }
        return nudgeBefore >= .zero && nudgeBefore <= Self.turnLengthRange.upperBound
    }
}

/// How a raised hand takes its place in the queue.
public enum QueuePolicy: String, Sendable, Codable, CaseIterable {
    /// First come, first served.
    case fifo
    /// Those who have spoken least this session go first (ties: first come first).
    case leastSpoken = "least_spoken"

    /// The name on the wire.
    public var wireName: String { rawValue }
}

/// A room's limits and defaults. Every field has a sane default.
public struct RoomConfig: Hashable, Sendable, Codable {
    /// Seats in the room (connected plus reconnecting participants, every role).
    public var maxParticipants: Int
    /// How long a dropped participant keeps their seat while `reconnecting`.
    public var grace: Duration
    /// How many recent sequenced events the room keeps for resumes.
    public var logCapacity: Int
    /// The largest `signal` payload, in bytes.
    public var maxSignalBytes: Int
    /// The largest private-word text, in UTF-8 bytes.
    public var maxPrivateWordBytes: Int
    /// Reactions a participant may send in a burst.
    public var reactionBurst: Int
    /// One reaction token comes back per this interval.
    public var reactionRefill: Duration
    /// Pacing at the start of the session.
    public var pacing: Pacing
    /// Queue policy at the start of the session.
    public var queuePolicy: QueuePolicy

    /// A configuration; every argument has a default.
    public init(
        maxParticipants: Int = 50,
        grace: Duration = .seconds(30),
        logCapacity: Int = 256,
        maxSignalBytes: Int = 64 * 1024,
        maxPrivateWordBytes: Int = 500,
        reactionBurst: Int = 5,
        reactionRefill: Duration = .seconds(1),
        pacing: Pacing = .unpaced,
        queuePolicy: QueuePolicy = .fifo
    ) {
        self.maxParticipants = maxParticipants
        self.grace = grace
        self.logCapacity = logCapacity
        self.maxSignalBytes = maxSignalBytes
        self.maxPrivateWordBytes = maxPrivateWordBytes
        self.reactionBurst = reactionBurst
        self.reactionRefill = reactionRefill
        self.pacing = pacing
        self.queuePolicy = queuePolicy
    }

    /// The shortest and longest silence a facilitator may start.
    public static let silenceRange: ClosedRange<Duration> = .seconds(1) ... .seconds(3600)
}
