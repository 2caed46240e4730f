/// Whether a participant's connection is live.
public enum ConnectionState: String, Sendable, Codable {
    /// Connected now.
    case connected
    /// Dropped; the seat is kept until the grace period ends.
    case reconnecting

    /// The name on the wire.
    public var wireName: String { rawValue }
}

/// A participant as everyone in the room sees them. The only place display names travel.
///
/// A raised hand is a place in the queue and speaking is holding the floor: both live in the snapshot's
/// `queue` and `floor`, not here, so there is one source of truth for each.
public struct ParticipantView: Hashable, Sendable, Codable {
    /// The participant id.
    public var id: ParticipantID
    /// The display name (confidential: never logged).
    public var name: String
    /// The role in this room (a promotion shows here).
    public var role: Role
    /// Connected or reconnecting.
    public var connection: ConnectionState
    /// The mic state the client last reported.
    public var mic: Bool
    /// The camera state the client last reported.
    public var camera: Bool
    /// Held muted by a facilitator (the participant cannot unmute until it is lifted).
    public var muted: Bool
}

/// Where a participant stands in an intro or closing round.
public enum RoundStatus: String, Sendable, Codable {
    /// Has not had their turn yet.
    case waiting
    /// Had their turn.
    case done
    /// Passed.
    case passed

    /// The name on the wire.
    public var wireName: String { rawValue }
}

/// One place in an intro or closing round.
public struct RoundEntry: Hashable, Sendable, Codable {
    /// Who.
    public var participant: ParticipantID
    /// Where they stand.
    public var status: RoundStatus

    /// A round entry.
    public init(participant: ParticipantID, status: RoundStatus) {
        self.participant = participant
        self.status = status
    }
}

/// Why a turn ended.
public enum TurnEndReason: String, Sendable, Codable {
    /// The speaker ended it.
    case finished
    /// The speaker passed (in a round).
    case passed
    /// A facilitator ended it (or gave the floor to someone else, or advanced the round).
    case facilitator
    /// Its time ran out with auto-advance on.
    case timeUp = "time_up"
    /// The room changed phase (a silence included).
    case phase
    /// The speaker left the room.
    case left

    /// The name on the wire.
    public var wireName: String { rawValue }
}

/// Why a participant left.
public enum LeaveReason: String, Sendable, Codable {
    /// They sent `leave`.
    case left
    /// Their grace period ended without a reconnect.
    case timedOut = "timed_out"
    /// A facilitator removed them.
    case removed

    /// The name on the wire.
    public var wireName: String { rawValue }
}

/// A change of room state. Each one gets the room's next sequence number and goes to everyone connected, in order.
///
/// The larger payloads are boxed (`indirect`) so an event is three words: the room keeps hundreds in its log.
public enum RoomEvent: Hashable, Sendable, Codable {
    /// Someone took a seat.
    indirect case participantJoined(ParticipantView)
    /// Someone left for good.
    case participantLeft(ParticipantID, reason: LeaveReason)
    /// Someone's connection dropped or came back.
    case connectionChanged(ParticipantID, ConnectionState)
    /// Someone's reported mic/camera changed.
    case mediaChanged(ParticipantID, mic: Bool, camera: Bool)
    /// These participants are now held muted (`true`) or released (`false`).
    case muteChanged([ParticipantID], muted: Bool)
    /// Someone's role changed (promotion).
    case roleChanged(ParticipantID, Role)
    /// The queue's order or policy changed (a raised hand is a place in it).
    case queueChanged([ParticipantID], policy: QueuePolicy)
    /// Someone got the floor; `turnLength` is the length of this turn when paced.
    indirect case floorGiven(ParticipantID, turnLength: Duration?)
    /// The current turn ended; the floor is free.
    case turnEnded(ParticipantID, reason: TurnEndReason)
    /// The round (intro or close) changed; empty outside those phases.
    case roundChanged([RoundEntry])
    /// The phase changed; entering silence, `silence` is its length and `returnsTo` the phase it returns to.
    /// (`returnsTo` is optional in the stored log: a silence event saved before it existed reads back without it.)
    indirect case phaseChanged(Phase, silence: Duration?, returnsTo: Phase? = nil)
    /// Pacing changed (applies to the next turn).
    indirect case pacingChanged(Pacing)
    /// The room was locked or unlocked.
    case lockChanged(locked: Bool)
    /// The session is over.
    case sessionEnded

    /// The event's `type` on the wire.
    public var wireName: String {
        switch self {
        case .participantJoined: "participant_joined"
        case .participantLeft: "participant_left"
        case .connectionChanged: "connection_changed"
        case .mediaChanged: "media_changed"
        case .muteChanged: "mute_changed"
        case .roleChanged: "role_changed"
        case .queueChanged: "queue_changed"
        case .floorGiven: "floor_given"
        case .turnEnded: "turn_ended"
        case .roundChanged: "round_changed"
        case .phaseChanged: "phase_changed"
        case .pacingChanged: "pacing_changed"
        case .lockChanged: "lock_changed"
        case .sessionEnded: "session_ended"
        }
    }
}

/// An event with its place in the room's order.
public struct SequencedEvent: Hashable, Sendable, Codable {
    /// The room's sequence number after this event (the first event is 1).
    public var seq: UInt64
    /// The change.
    public var event: RoomEvent

    /// A sequenced event.
    public init(seq: UInt64, event: RoomEvent) {
        self.seq = seq
        self.event = event
    }
}
