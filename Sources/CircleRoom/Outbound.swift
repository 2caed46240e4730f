/// The room as a newcomer needs it: everything but the sequence of events that led here.
public struct Snapshot: Hashable, Sendable, Codable {
    /// The phase.
    public var phase: Phase
    /// During a silence: the phase it returns to.
    public var silenceReturnsTo: Phase?
    /// Everyone with a seat, in join order.
    public var participants: [ParticipantView]
    /// The raise-hand queue, head first.
    public var queue: [ParticipantID]
    /// The queue's policy.
    public var queuePolicy: QueuePolicy
    /// Who holds the floor, if anyone.
    public var floor: ParticipantID?
    /// The length of the current turn when paced.
    public var turnLength: Duration?
    /// The intro or closing round (empty in other phases).
    public var round: [RoundEntry]
    /// Turn pacing for the next turns.
    public var pacing: Pacing
    /// Whether new joins are refused.
    public var locked: Bool
}

/// Clocks as seen by one recipient at the moment of the welcome.
public struct TimeLeft: Hashable, Sendable, Codable {
    /// Time left in the silence (everyone sees it).
    public var silence: Duration?
    /// Time left in the paced turn: only for the speaker and the facilitators; others see who speaks, not a countdown.
    public var turn: Duration?

    /// Clocks.
    public init(silence: Duration? = nil, turn: Duration? = nil) {
        self.silence = silence
        self.turn = turn
    }
}

/// How a welcome brings a client up to date.
public enum CatchUp: Hashable, Sendable {
    /// A full snapshot at the welcome's `seq` (a new join, or a resume whose missed events left the log).
    case snapshot(Snapshot)
    /// The events the client missed, in order, ending at the welcome's `seq` (possibly none).
    case replay([SequencedEvent])
}

/// The first message on a joined connection.
public struct Welcome: Hashable, Sendable {
    /// The recipient's participant id.
    public var participant: ParticipantID
    /// The recipient's role in this room.
    public var role: Role
    /// The room's sequence number that the client is at once it has applied `catchUp`.
    public var seq: UInt64
    /// Whether the client took back an existing seat (resume within grace, or takeover of a live seat).
    public var resumed: Bool
    /// A snapshot, or the missed events.
    public var catchUp: CatchUp
    /// Silence and turn time left now.
    public var timeLeft: TimeLeft
    /// The room's epoch (``RoomState/epoch``); 0 is not sent.
    public var epoch: UInt64 = 0
}

/// Speaking time and turns of one participant this session.
public struct SpeakingStats: Hashable, Sendable, Codable {
    /// Who.
    public var participant: ParticipantID
    /// Turns had (the floor given to them).
    public var turns: Int
    /// Passes in rounds.
    public var passes: Int
    /// Total time holding the floor, the current turn included; a turn passed counts as none.
    public var spoken: Duration

    /// Stats for one participant.
    public init(participant: ParticipantID, turns: Int = 0, passes: Int = 0, spoken: Duration = .zero) {
        self.participant = participant
        self.turns = turns
        self.passes = passes
        self.spoken = spoken
    }
}

/// Why a client is asked to turn its mic off.
public enum MuteReason: String, Sendable, Codable {
    /// A facilitator holds them muted.
    case facilitator
    /// A silence started.
    case silence

    /// The name on the wire.
    public var wireName: String { rawValue }
}

/// A typed message for one or more clients. The service encodes it once per delivery.
///
/// Only `event` carries a sequence number; every other message is direct and unsequenced.
public enum Outbound: Hashable, Sendable {
    /// The first message on a joined connection (boxed: it is large and sent once per join).
    indirect case welcome(Welcome)
    /// A change of room state.
    case event(SequencedEvent)
    /// The request succeeded.
    case ack(RequestID)
    /// The request failed; nothing changed.
    case error(RequestID?, ErrorCode, message: String)
    /// A relayed signaling payload, stamped with its sender; the room never reads it.
    case signal(from: ParticipantID, payload: [UInt8])
    /// A reaction from someone (to everyone connected, the sender included).
    case reaction(from: ParticipantID, ReactionKind)
    /// A private word to the facilitators ("I need a moment", plus optional text).
    case privateWord(from: ParticipantID, text: String?)
    /// To the member and the other facilitators: `by` has seen the member's private word.
    case privateWordSeen(participant: ParticipantID, by: ParticipantID)
    /// To the speaker and facilitators: the paced turn has this much time left.
    case turnNudge(speaker: ParticipantID, timeLeft: Duration)
    /// To the speaker and facilitators: the paced turn's time is up.
    case turnTimeUp(speaker: ParticipantID)
    /// An instruction to turn the mic off.
    case muteRequest(MuteReason)
    /// To a facilitator who asked: speaking time and turns per participant, in first-join order.
    case stats([SpeakingStats])
    /// The first message to someone who arrived before a session opened: a `welcome` whose `state` is
    /// `waiting_for_facilitator`, with no room in it. The full `welcome` follows when the session opens.
    case waitingForFacilitator(participant: ParticipantID, role: Role)

    /// The message's `type` on the wire (an event's own type is `RoomEvent.wireName`).
    public var wireName: String {
        switch self {
        case .welcome: "welcome"
        case .event(let sequenced): sequenced.event.wireName
        case .ack: "ack"
        case .error: "error"
        case .signal: "signal"
        case .reaction: "reaction"
        case .privateWord: "private_word"
        case .privateWordSeen: "private_word_seen"
        case .turnNudge: "turn_nudge"
        case .turnTimeUp: "turn_time_up"
        case .muteRequest: "mute_request"
        case .stats: "stats"
        case .waitingForFacilitator: "welcome"
        }
    }
}

/// What the service must do after a call into the room, in order.
public enum RoomEffect: Hashable, Sendable {
    /// Encode `message` once and write the same bytes to each recipient.
    case deliver(Outbound, to: [ConnectionID])
    /// Close a connection (after writing what was delivered to it before) with a code and a short fixed reason.
    case close(ConnectionID, code: UInt16, reason: String)
    /// The room is over: drop it once the effects before this one are carried out.
    case ended
}

/// The result of a join.
public enum JoinOutcome: Hashable, Sendable {
    /// A new seat.
    case joined
    /// The participant took back their seat (within grace, or from an older live connection).
    case resumed
    /// Refused: the connection gets an error and is closed (see the effects).
    case refused(ErrorCode)

    /// Whether the connection now belongs to the room.
    public var isAccepted: Bool {
        if case .refused = self { return false }
        return true
    }
}

extension Outbound {
    /// A one-line description safe for logs: the message type, a sequence number or error code, and sizes —
    /// never a display name, a text, or a payload.
    public var logSummary: String {
        switch self {
        case .welcome(let welcome):
            switch welcome.catchUp {
            case .snapshot: "welcome seq=\(welcome.seq) resumed=\(welcome.resumed) snapshot"
            case .replay(let events): "welcome seq=\(welcome.seq) resumed=\(welcome.resumed) replay=\(events.count)"
            }
        case .event(let sequenced): "\(sequenced.event.wireName) seq=\(sequenced.seq)"
        case .error(_, let code, _): "error code=\(code.wireName)"
        case .signal(let from, let payload): "signal from=\(from) bytes=\(payload.count)"
        case .privateWord(let from, let text): "private_word from=\(from) bytes=\(text?.utf8.count ?? 0)"
        default: wireName
        }
    }
}

extension RoomEffect {
    /// A one-line description safe for logs (see `Outbound.logSummary`).
    public var logSummary: String {
        switch self {
        case .deliver(let message, let recipients): "deliver \(message.logSummary) to=\(recipients.count)"
        case .close(let connection, let code, let reason): "close \(connection) code=\(code) reason=\(reason)"
        case .ended: "ended"
        }
    }
}
