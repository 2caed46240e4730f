extension Room {
    // MARK: - Turns

    /// Ends the current turn: counts its time (a pass counts as no time spoken), frees the floor, and in a round
    /// marks the speaker's place (done, or passed). Does not move the floor on; see `advanceAfterTurn`.
    func finishTurn(_ reason: TurnEndReason) {
        guard let floor = state.floor else { return }
        state.floor = nil
        if reason == .passed {
            state.stats[floor.speaker]?.passes += 1
        } else {
            let spoken = state.now - floor.startedAt
            state.stats[floor.speaker]?.spoken += spoken
        }
        emit(.turnEnded(floor.speaker, reason: reason))
        guard state.phase.hasRound, reason != .phase, reason != .left,
            let index = state.round.firstIndex(where: { $0.participant == floor.speaker && $0.status == .waiting })
        else { return }
        state.round[index].status = reason == .passed ? .passed : .done
        emit(.roundChanged(state.round))
    }

    /// Gives the floor to `id` (the floor must be free): takes them out of the queue, lifts a held mute, and starts
    /// the turn with the current pacing.
    func startTurn(_ id: ParticipantID) {
        if let index = state.queue.firstIndex(of: id) {
            state.queue.remove(at: index)
            emit(.queueChanged(state.queue, policy: state.queuePolicy))
        }
        if state.participants[id]?.view.muted == true {
            state.participants[id]?.view.muted = false
            emit(.muteChanged([id], muted: false))
        }
        let pacing = state.pacing
        var floor = Floor(speaker: id, startedAt: state.now, turnLength: pacing.turnLength)
        if let length = pacing.turnLength {
            floor.endsAt = state.now + length
            if pacing.nudgeBefore > .zero, pacing.nudgeBefore < length {
                floor.nudgeAt = state.now + (length - pacing.nudgeBefore)
            }
        }
        state.floor = floor
        state.stats[id]?.turns += 1
        emit(.floorGiven(id, turnLength: pacing.turnLength))
    }

    /// After a turn ended: in a round, the next in the round gets the floor; in sharing with auto-advance on, the
    /// next in the queue.
    func advanceAfterTurn() {
        guard state.floor == nil else { return }
        if state.phase.hasRound {
            if let next = nextInRound() { startTurn(next) }
        } else if state.phase == .sharing, state.pacing.autoAdvance {
            if let next = nextInQueue() { startTurn(next) }
        }
    }

    /// The first connected participant still waiting in the round.
    func nextInRound() -> ParticipantID? {
        state.round.first { $0.status == .waiting && isConnected($0.participant) }?.participant
    }

    /// The first connected participant in the queue (reconnecting ones keep their place but are skipped).
    func nextInQueue() -> ParticipantID? {
        state.queue.first { isConnected($0) }
    }

    // MARK: - Queue

    /// Where a newly raised hand goes under the current policy.
    func queueInsertionIndex(for id: ParticipantID) -> Int {
        guard state.queuePolicy == .leastSpoken else { return state.queue.count }
        let spoken = state.stats[id]?.spoken ?? .zero
        return state.queue.firstIndex { (state.stats[$0]?.spoken ?? .zero) > spoken } ?? state.queue.count
    }

    /// Re-orders the queue by speaking time, keeping the current order among equals.
    func sortQueueBySpeakingTime() {
        let keyed = state.queue.enumerated().map { index, id in
            (index: index, id: id, spoken: state.stats[id]?.spoken ?? .zero)
        }
        state.queue = keyed.sorted { ($0.spoken, $0.index) < ($1.spoken, $1.index) }.map(\.id)
    }

    // MARK: - Phases

    /// Moves the room to `target`: ends any turn, sets up or tears down the silence and the round.
    /// `silenceLength` is required when `target` is `.silence`.
    func changePhase(to target: Phase, silenceLength: Duration? = nil) {
        let origin = state.phase
        let returning = origin == .silence && state.silence?.returnsTo == target
        finishTurn(.phase)
        state.phase = target
        if target == .silence, let silenceLength {
            state.silence = Silence(endsAt: state.now + silenceLength, returnsTo: origin)
        } else {
            state.silence = nil
        }
        let entering = target == .silence
        emit(.phaseChanged(target, silence: entering ? silenceLength : nil, returnsTo: entering ? origin : nil))
        switch target {
        case .intro, .close:
            if !returning {
                state.round = state.participants.inJoinOrder.compactMap { seat in
                    seat.role == .member ? RoundEntry(participant: seat.id, status: .waiting) : nil
                }
                emit(.roundChanged(state.round))
            }
        case .sharing:
            if !state.round.isEmpty {
                state.round = []
                emit(.roundChanged(state.round))
            }
        case .silence:
            var asked: [ConnectionID] = []
            for connection in recipients {
                if let position = state.participants.index(of: connection),
                    state.participants[at: position].role.canTakePart
                {
                    asked.append(connection)
                }
            }
            deliver(.muteRequest(.silence), to: asked)
        case .ended:
            break
        }
    }

    // MARK: - Leaving

    /// Gives up a seat for good: ends their turn, takes them out of the queue and round, and tells the room.
    /// Returns the connection that was live, if any (detached; the caller decides how to close it).
    @discardableResult
    func removeParticipant(_ id: ParticipantID, reason: LeaveReason) -> ConnectionID? {
        guard let seat = state.participants[id] else { return nil }
        if let connection = seat.connection {
            detach(connection)
        }
        let wasSpeaking = state.floor?.speaker == id
        if wasSpeaking {
            finishTurn(.left)
        }
        if let index = state.queue.firstIndex(of: id) {
            state.queue.remove(at: index)
            emit(.queueChanged(state.queue, policy: state.queuePolicy))
        }
        if let index = state.round.firstIndex(where: { $0.participant == id }) {
            state.round.remove(at: index)
            emit(.roundChanged(state.round))
        }
        state.participants[id] = nil
        if reason == .removed {
            state.removed.insert(id)
        }
        emit(.participantLeft(id, reason: reason))
        if wasSpeaking {
            advanceAfterTurn()
        }
        return seat.connection
    }
}
