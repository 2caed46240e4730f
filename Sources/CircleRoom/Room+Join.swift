extension Room {
    /// Gives a new participant a seat (after their welcome, so they see their own join as an event).
    func seat(_ identity: Identity, on connection: ConnectionID) {
        let view = ParticipantView(
            id: identity.sub, name: identity.name, role: identity.role, connection: .connected,
            mic: false, camera: false, muted: false)
        state.participants[identity.sub] = Participant(
            view: view, connection: nil, graceEnds: nil,
            reactions: RateBucket(burst: state.config.reactionBurst, now: state.now))
        if state.stats[identity.sub] == nil {
            state.stats[identity.sub] = SpeakingStats(participant: identity.sub)
        }
        attach(connection, to: identity.sub)
        emit(.participantJoined(view))
        if roundIsOpen, identity.role == .member {
            state.round.appendCompactly(RoundEntry(participant: identity.sub, status: .waiting))
            emit(.roundChanged(state.round))
        }
    }

    /// Whether late joiners join the round: in intro or close, or in a silence that returns to one of them.
    var roundIsOpen: Bool {
        state.phase.hasRound || (state.phase == .silence && state.silence?.returnsTo.hasRound == true)
    }

    /// Sends the welcome for a seat that exists (a resume or takeover).
    func welcome(_ id: ParticipantID, on connection: ConnectionID, resumed: Bool, resumeFrom: UInt64?) {
        let role = state.participants[id]?.role ?? .observer
        let catchUp: CatchUp
        if let resumeFrom, let missed = state.log.events(after: resumeFrom, latest: state.seq) {
            catchUp = .replay(missed)
        } else {
            catchUp = .snapshot(snapshot())
        }
        let welcome = Welcome(
            participant: id, role: role, seq: state.seq, resumed: resumed, catchUp: catchUp,
            timeLeft: timeLeft(for: id, role: role), epoch: state.epoch)
        deliver(.welcome(welcome), to: connection)
    }

    /// Sends the welcome for a new participant (a snapshot from before their own join event).
    func welcome(_ id: ParticipantID, role: Role, on connection: ConnectionID) {
        let welcome = Welcome(
            participant: id, role: role, seq: state.seq, resumed: false, catchUp: .snapshot(snapshot()),
            timeLeft: timeLeft(for: id, role: role), epoch: state.epoch)
        deliver(.welcome(welcome), to: connection)
    }

    /// The room as it stands now.
    public func snapshot() -> Snapshot {
        Snapshot(
            phase: state.phase,
            silenceReturnsTo: state.silence?.returnsTo,
            participants: state.participants.inJoinOrder.map(\.view),
            queue: state.queue,
            queuePolicy: state.queuePolicy,
            floor: state.floor?.speaker,
            turnLength: state.floor?.turnLength,
            round: state.round,
            pacing: state.pacing,
            locked: state.locked)
    }

    /// The clocks one recipient may see now: the silence for everyone, the turn for the speaker and facilitators.
    public func timeLeft(for recipient: ParticipantID, role: Role) -> TimeLeft {
        var result = TimeLeft()
        if let silence = state.silence {
            result.silence = silence.endsAt - state.now
        }
        if let floor = state.floor, let length = floor.turnLength,
            floor.speaker == recipient || role.canFacilitate
        {
            result.turn = (floor.startedAt + length) - state.now
        }
        return result
    }

    /// Speaking time and turns per participant this session (the current turn included), in first-join order.
    public func speakingStats() -> [SpeakingStats] {
        state.stats.inFirstJoinOrder.map { entry in
            var stats = entry
            if let floor = state.floor, floor.speaker == entry.participant {
                stats.spoken += state.now - floor.startedAt
            }
            return stats
        }
    }
}
