/// One seat in the room.
public struct Participant: Hashable, Sendable, Codable {
    /// What everyone sees.
    public var view: ParticipantView
    /// The live connection, if connected (node-local).
    public var connection: ConnectionID?
    /// While reconnecting: when the seat is given up.
    public var graceEnds: Instant?
    /// The per-participant reaction limit.
    public var reactions: TokenBucket

    /// The participant id.
    public var id: ParticipantID { view.id }
    /// The role in this room.
    public var role: Role { view.role }
}

/// The current turn.
public struct Floor: Hashable, Sendable, Codable {
    /// Who speaks.
    public var speaker: ParticipantID
    /// When the turn began.
    public var startedAt: Instant
    /// This turn's length when paced.
    public var turnLength: Duration?
    /// When the time-left nudge is due (cleared once sent).
    public var nudgeAt: Instant?
    /// When the time is up (cleared once handled).
    public var endsAt: Instant?
}

/// A running silence.
public struct Silence: Hashable, Sendable, Codable {
    /// When it ends by itself.
    public var endsAt: Instant
    /// The phase it returns to.
    public var returnsTo: Phase
}

/// Everything a room is, as a plain value: serializable, so a room could move between nodes (connections and
/// instants are node-local and would be rebased by whoever moves it).
public struct RoomState: Hashable, Sendable, Codable {
    /// The room id.
    public var id: String
    /// Limits and defaults.
    public var config: RoomConfig
    /// The sequence number of the last event (0 before any).
    public var seq: UInt64 = 0
    /// The phase.
    public var phase: Phase = .intro
    /// The running silence, if any.
    public var silence: Silence?
    /// Seats by participant id.
    public var participants: [ParticipantID: Participant] = [:]
    /// Participant ids in join order.
    public var joinOrder: [ParticipantID] = []
    /// The raise-hand queue, head first.
    public var queue: [ParticipantID] = []
    /// The queue policy.
    public var queuePolicy: QueuePolicy
    /// The current turn.
    public var floor: Floor?
    /// The intro or closing round.
    public var round: [RoundEntry] = []
    /// Pacing for new turns.
    public var pacing: Pacing
    /// Whether new joins are refused.
    public var locked = false
    /// Participants removed this session (cannot rejoin).
    public var removed: Set<ParticipantID> = []
    /// Speaking stats by participant, kept after they leave.
    public var stats: [ParticipantID: SpeakingStats] = [:]
    /// Participant ids in first-join order (for stats).
    public var statsOrder: [ParticipantID] = []
    /// Recent events for resumes.
    public var log: EventLog
    /// The latest instant the room has seen (time never runs backwards inside).
    public var now: Instant

    /// A fresh room in the intro phase.
    public init(id: String, config: RoomConfig, now: Instant) {
        self.id = id
        self.config = config
        self.queuePolicy = config.queuePolicy
        self.pacing = config.pacing
        self.log = EventLog(capacity: config.logCapacity)
        self.now = now
    }
}
