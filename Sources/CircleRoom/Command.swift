/// Where a `signal` goes.
public enum SignalTarget: Hashable, Sendable, Codable {
    /// One participant of the room (must be connected).
    case participant(ParticipantID)
    /// Every other connected participant.
    case everyone
}

/// A reaction: broadcast to the room, never sequenced, rate-limited per participant.
public enum ReactionKind: String, Sendable, Codable, CaseIterable {
    case nod, heart, wave, clap, smile

    /// The name on the wire.
    public var wireName: String { rawValue }
}

/// Who may send a command.
public enum Permission: String, Sendable, CaseIterable {
    /// Anyone in the room, observers included.
    case anyone
    /// Anyone who takes part: facilitator, co-facilitator, member (not observers).
    case participant
    /// Facilitators and co-facilitators only.
    case facilitator
}

/// A request from a connected client, already decoded and validated for shape by the protocol layer.
public enum Command: Hashable, Sendable {
    // MARK: anyone

    /// Leave the session for good (the connection is closed normally).
    case leave
    /// Relay an opaque payload (SDP, ICE, …) to one participant or everyone; the sender is stamped by the room.
    case signal(to: SignalTarget, payload: [UInt8])

    // MARK: participants

    /// Report the client's mic and/or camera state (`nil`: unchanged).
    case media(mic: Bool?, camera: Bool?)
    /// Raise a hand: take a place in the queue.
    case raiseHand
    /// Lower one's own hand: leave the queue.
    case lowerHand
    /// In a round: end one's turn as a pass, or, before one's turn, mark it passed.
    case pass
    /// End the current turn: one's own, or, for facilitators, whoever holds the floor.
    case endTurn
    /// Send a reaction to the room.
    case reaction(ReactionKind)
    /// "I need a moment": a private word to the facilitators only, with an optional short text.
    case privateWord(text: String?)

    // MARK: facilitators

    /// Move the room to intro, sharing or close (see `Phase.allowsSetPhase`); silence and ended are `invalid`.
    case setPhase(Phase)
    /// In a round: end the current turn, if any, and give the floor to the next in the round.
    case advanceRound
    /// Start a silence of the given length.
    case startSilence(Duration)
    /// End the silence early; the room returns to the phase it came from.
    case endSilence
    /// Give the floor to a participant, or (`nil`) to the head of the queue.
    case giveFloor(to: ParticipantID?)
    /// Move a queued participant to a 0-based position in the queue.
    case moveInQueue(ParticipantID, to: Int)
    /// Take a participant out of the queue (lowers their hand).
    case removeFromQueue(ParticipantID)
    /// Empty the queue: lowers every hand.
    case clearQueue
    /// Switch the queue policy; the queue is re-ordered by it.
    case setQueuePolicy(QueuePolicy)
    /// Set turn pacing; applies to turns that start afterwards.
    case setPacing(Pacing)
    /// Hold a participant muted.
    case mute(ParticipantID)
    /// Lift a participant's mute.
    case unmute(ParticipantID)
    /// Hold muted everyone of lower rank except the speaker.
    case muteAllButSpeaker
    /// Refuse new joins (reconnects within grace are still allowed).
    case lock
    /// Accept new joins again.
    case unlock
    /// Remove a participant for the rest of the session.
    case remove(ParticipantID)
    /// Make a member a co-facilitator.
    case promote(ParticipantID)
    /// End the session for everyone.
    case endSession
    /// Ask for speaking time and turns per participant (answered directly with `stats`).
    case requestStats
    /// Tell a member their private word was seen (directly, to them and the other facilitators; never sequenced).
    case privateWordSeen(ParticipantID)

    /// The command's `type` on the wire.
    public var wireName: String {
        switch self {
        case .leave: "leave"
        case .signal: "signal"
        case .media: "media"
        case .raiseHand: "raise_hand"
        case .lowerHand: "lower_hand"
        case .pass: "pass"
        case .endTurn: "end_turn"
        case .reaction: "reaction"
        case .privateWord: "private_word"
        case .setPhase: "set_phase"
        case .advanceRound: "advance_round"
        case .startSilence: "start_silence"
        case .endSilence: "end_silence"
        case .giveFloor: "give_floor"
        case .moveInQueue: "move_in_queue"
        case .removeFromQueue: "remove_from_queue"
        case .clearQueue: "clear_queue"
        case .setQueuePolicy: "set_queue_policy"
        case .setPacing: "set_pacing"
        case .mute: "mute"
        case .unmute: "unmute"
        case .muteAllButSpeaker: "mute_all_but_speaker"
        case .lock: "lock"
        case .unlock: "unlock"
        case .remove: "remove"
        case .promote: "promote"
        case .endSession: "end_session"
        case .requestStats: "request_stats"
        case .privateWordSeen: "private_word_seen"
        }
    }

    /// Who may send this command. A sender without it gets `forbidden` and nothing changes.
    public var permission: Permission {
        switch self {
        case .leave, .signal:
            .anyone
        case .media, .raiseHand, .lowerHand, .pass, .endTurn, .reaction, .privateWord:
            .participant
        case .setPhase, .advanceRound, .startSilence, .endSilence, .giveFloor, .moveInQueue, .removeFromQueue,
            .clearQueue, .setQueuePolicy, .setPacing, .mute, .unmute, .muteAllButSpeaker, .lock, .unlock, .remove,
            .promote, .endSession, .requestStats, .privateWordSeen:
            .facilitator
        }
    }
}

extension Permission {
    /// Whether `role` holds this permission.
    public func allows(_ role: Role) -> Bool {
        switch self {
        case .anyone: true
        case .participant: role.canTakePart
        case .facilitator: role.canFacilitate
        }
    }
}
