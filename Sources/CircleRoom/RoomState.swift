/// One seat in the room.
///
/// The optional connection and grace end are kept as flags beside plain numbers, so that the flags fill the view's
/// padding: a seat is 72 bytes, not 88 (MemoryTests).
public struct Participant: Hashable, Sendable, Codable {
    /// What everyone sees.
    public var view: ParticipantView
    private(set) var isConnected = false
    private(set) var isInGrace = false
    private(set) var connectionNumber: UInt64 = 0
    private(set) var graceEndNanoseconds: UInt64 = 0
    /// The per-participant reaction limit.
    public var reactions: RateBucket

    /// A seat.
    init(view: ParticipantView, connection: ConnectionID?, graceEnds: Instant?, reactions: RateBucket) {
        self.view = view
        self.reactions = reactions
        self.connection = connection
        self.graceEnds = graceEnds
    }

    /// The live connection, if connected (node-local).
    public var connection: ConnectionID? {
        get { isConnected ? ConnectionID(connectionNumber) : nil }
        set {
            isConnected = newValue != nil
            connectionNumber = newValue?.rawValue ?? 0
        }
    }

    /// While reconnecting: when the seat is given up.
    public var graceEnds: Instant? {
        get { isInGrace ? Instant(nanoseconds: graceEndNanoseconds) : nil }
        set {
            isInGrace = newValue != nil
            graceEndNanoseconds = newValue?.nanoseconds ?? 0
        }
    }

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
    /// Seats in join order, by participant id.
    public var participants = Seats()
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
    /// Speaking stats in first-join order, by participant id, kept after they leave.
    public var stats = StatsTable()
    /// Recent events for resumes.
    public var log: EventLog
    /// The latest instant the room has seen (time never runs backwards inside).
    public var now: Instant
    /// Which incarnation of the room this is: set by the service (a new room, or one restored without some of its
    /// events), sent in every welcome; a client resuming with another epoch gets a fresh snapshot.
    public var epoch: UInt64 = 0

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

/// A room's seats in join order, found by participant id or live connection.
///
/// One contiguous array instead of a dictionary per key: rooms hold tens of seats and there are many rooms, so a
/// scan of a few records costs less than hashing a string, and nothing is reserved for seats not taken.
public struct Seats: Hashable, Sendable, Codable {
    /// The seats, in join order.
    public private(set) var inJoinOrder: [Participant] = []

    /// No seats.
    public init() {}

    /// Seats taken.
    public var count: Int { inJoinOrder.count }

    /// Where a participant's seat is in join order.
    public func index(of id: ParticipantID) -> Int? {
        inJoinOrder.firstIndex { $0.view.id == id }
    }

    /// Where the seat of a live connection is in join order.
    public func index(of connection: ConnectionID) -> Int? {
        inJoinOrder.firstIndex { $0.connection == connection }
    }

    /// A participant's live connection, if they have a seat and are connected.
    public func connection(of id: ParticipantID) -> ConnectionID? {
        index(of: id).flatMap { inJoinOrder[$0].connection }
    }

    /// A participant's seat. Setting `nil` gives it up; setting one for a participant without a seat appends it.
    public subscript(id: ParticipantID) -> Participant? {
        get { index(of: id).map { inJoinOrder[$0] } }
        set { inJoinOrder.setRecord(newValue, at: index(of: id)) }
    }

    /// The seat at a position in join order.
    subscript(at position: Int) -> Participant {
        get { inJoinOrder[position] }
        _modify { yield &inJoinOrder[position] }
    }
}

/// Speaking stats in first-join order, found by participant id; an entry stays after its participant leaves.
public struct StatsTable: Hashable, Sendable, Codable {
    /// The stats, in first-join order.
    public private(set) var inFirstJoinOrder: [SpeakingStats] = []

    /// No stats.
    public init() {}

    /// One participant's stats. Setting `nil` drops them; setting them for a new participant appends them.
    public subscript(id: ParticipantID) -> SpeakingStats? {
        get { index(of: id).map { inFirstJoinOrder[$0] } }
        set { inFirstJoinOrder.setRecord(newValue, at: index(of: id)) }
    }

    private func index(of id: ParticipantID) -> Int? { inFirstJoinOrder.firstIndex { $0.participant == id } }
}

extension Array {
    /// Appends, growing the storage by an eighth (at least `minimumGrowth`) instead of doubling it: a room holds
    /// small arrays (a seat, a stats record, a round entry per person; groups are 4–15) and a server holds many
    /// rooms, so capacity nobody uses adds up. Growing by two leaves at most one slot empty in a group; the copies
    /// happen once per join, on arrays of tens of elements.
    mutating func appendCompactly(_ element: Element, minimumGrowth: Int = 2) {
        if count == capacity { reserveCapacity(count + Swift.max(minimumGrowth, count / 8)) }
        append(element)
    }

    /// A keyed record's update, for ``Seats`` and ``StatsTable``: the record at `index` is replaced (or, with nil,
    /// removed); without one, a record is appended.
    mutating func setRecord(_ newValue: Element?, at index: Int?) {
        if let index {
            if let newValue { self[index] = newValue } else { remove(at: index) }
        } else if let newValue {
            appendCompactly(newValue)
        }
    }
}
