extension Room {
    /// Facilitator controls (the sender is a facilitator or co-facilitator).
    func performControl(_ command: Command, by sender: ParticipantID, role: Role, on connection: ConnectionID)
        throws(CommandError) -> Completion
    {
        switch command {
        case .setPhase(let target):
            return try setPhase(target)
        case .advanceRound:
            guard state.phase.hasRound else { throw CommandError(.wrongPhase, "no round in this phase") }
            if state.floor != nil {
                finishTurn(.facilitator)
                advanceAfterTurn()
            } else if let next = nextInRound() {
                startTurn(next)
            } else {
                throw CommandError(.conflict, "the round is complete")
            }
        case .startSilence(let length):
            guard state.phase.allowsSilence else { throw CommandError(.wrongPhase) }
            guard RoomConfig.silenceRange.contains(length) else {
                throw CommandError(.invalid, "silence length out of range")
            }
            changePhase(to: .silence, silenceLength: length)
        case .endSilence:
            guard let silence = state.silence else { throw CommandError(.wrongPhase, "no silence to end") }
            changePhase(to: silence.returnsTo)
        case .giveFloor(let target):
            try giveFloor(to: target)
        case .moveInQueue(let id, let position):
            guard let index = state.queue.firstIndex(of: id) else { throw CommandError(.notFound, "not in the queue") }
            guard state.queue.indices.contains(position) else {
                throw CommandError(.invalid, "position out of range")
            }
            guard position != index else { break }
            state.queue.remove(at: index)
            state.queue.insert(id, at: position)
            emit(.queueChanged(state.queue, policy: state.queuePolicy))
        case .removeFromQueue(let id):
            guard let index = state.queue.firstIndex(of: id) else { throw CommandError(.notFound, "not in the queue") }
            state.queue.remove(at: index)
            emit(.queueChanged(state.queue, policy: state.queuePolicy))
        case .clearQueue:
            guard !state.queue.isEmpty else { break }
            state.queue.removeAll()
            emit(.queueChanged(state.queue, policy: state.queuePolicy))
        case .setQueuePolicy(let policy):
            guard policy != state.queuePolicy else { break }
            state.queuePolicy = policy
            if policy == .leastSpoken { sortQueueBySpeakingTime() }
            emit(.queueChanged(state.queue, policy: policy))
        case .setPacing(let pacing):
            guard pacing.isValid else { throw CommandError(.invalid, "pacing out of range") }
            guard pacing != state.pacing else { break }
            state.pacing = pacing
            emit(.pacingChanged(pacing))
        case .mute(let id):
            try checkTarget(id, by: role)
            guard state.participants[id]?.view.muted == false else { break }
            hold([id])
        case .unmute(let id):
            try checkTarget(id, by: role)
            guard state.participants[id]?.view.muted == true else { break }
            state.participants[id]?.view.muted = false
            emit(.muteChanged([id], muted: false))
        case .muteAllButSpeaker:
            let speaker = state.floor?.speaker
            let targets = state.participants.inJoinOrder.compactMap { seat -> ParticipantID? in
                seat.role.canTakePart && seat.role.rank < role.rank && !seat.view.muted && speaker != seat.id
                    ? seat.id : nil
            }
            if !targets.isEmpty { hold(targets) }
        case .lock, .unlock:
            let locked = command == .lock
            guard locked != state.locked else { break }
            state.locked = locked
            emit(.lockChanged(locked: locked))
        case .remove(let id):
            guard id != sender else { throw CommandError(.invalid, "use leave") }
            try checkTarget(id, by: role, allowObserver: true)
            if let removed = removeParticipant(id, reason: .removed) {
                // Told in words before the close, so that their screen can say what happened.
                deliver(.error(nil, .removed, message: "removed from this session by a facilitator"), to: removed)
                effects.append(.close(removed, code: CloseCode.removed, reason: "removed by a facilitator"))
            }
        case .promote(let id):
            guard let target = state.participants[id] else { throw CommandError(.notFound) }
            switch target.role {
            case .member: break
            case .observer: throw CommandError(.invalid, "only members can be promoted")
            case .facilitator, .cofacilitator: throw CommandError(.conflict, "already a facilitator")
            }
            state.participants[id]?.view.role = .cofacilitator
            emit(.roleChanged(id, .cofacilitator))
        case .endSession:
            endSession()
            return .endRoom
        case .requestStats:
            deliver(.stats(speakingStats()), to: connection)
        case .privateWordSeen(let id):
            // Direct, not an event: who needed a moment is never told to the room.
            guard let seat = state.participants[id] else { throw CommandError(.notFound, "not in the room") }
            guard let member = seat.connection else { throw CommandError(.reconnecting, "participant reconnecting") }
            let recipients = [member] + facilitatorConnections(excluding: sender).filter { $0 != member }
            deliver(.privateWordSeen(participant: id, by: sender), to: recipients)
        case .leave, .signal, .media, .raiseHand, .lowerHand, .pass, .endTurn, .reaction, .privateWord:
            break  // handled by `perform`
        }
        return .done
    }

    private func setPhase(_ target: Phase) throws(CommandError) -> Completion {
        // Protocol 2: a silence needs its length, and only `end_session` ends the session (a v1 `set_phase ended`
        // arrives here already turned into `end_session` by the decoder's alias table).
        if target == .silence { throw CommandError(.invalid, "use start_silence") }
        if target == .ended { throw CommandError(.invalid, "use end_session") }
        guard state.phase.allowsSetPhase(to: target, silenceOrigin: state.silence?.returnsTo) else {
            throw CommandError(.wrongPhase)
        }
        changePhase(to: target)
        return .done
    }

    private func giveFloor(to target: ParticipantID?) throws(CommandError) {
        guard state.phase != .silence else { throw CommandError(.wrongPhase, "the floor is released in silence") }
        let next: ParticipantID
        if let target {
            guard let seat = state.participants[target] else { throw CommandError(.notFound, "not in the room") }
            guard seat.connection != nil else { throw CommandError(.reconnecting, "participant reconnecting") }
            guard seat.role.canTakePart else { throw CommandError(.invalid, "observers cannot take the floor") }
            guard state.floor?.speaker != target else { throw CommandError(.conflict, "already has the floor") }
            next = target
        } else {
            guard let head = nextInQueue() else {
                // Raised hands whose owners are all in their grace are still there: try again when one is back.
                throw CommandError(state.queue.isEmpty ? .notFound : .reconnecting, "no one connected in the queue")
            }
            next = head
        }
        finishTurn(.facilitator)
        startTurn(next)
    }

    /// A mute or removal target must exist, take part (unless removing) and rank below the sender.
    private func checkTarget(_ id: ParticipantID, by role: Role, allowObserver: Bool = false) throws(CommandError) {
        guard let target = state.participants[id] else { throw CommandError(.notFound) }
        guard allowObserver || target.role.canTakePart else { throw CommandError(.invalid, "observers have no mic") }
        guard target.role.rank < role.rank else { throw CommandError(.forbidden, "target outranks you") }
    }

    /// Holds participants muted: one event, and a mute instruction to those connected.
    private func hold(_ ids: [ParticipantID]) {
        var connections: [ConnectionID] = []
        for id in ids {
            state.participants[id]?.view.muted = true
            if let connection = state.participants[id]?.connection { connections.append(connection) }
        }
        emit(.muteChanged(ids, muted: true))
        deliver(.muteRequest(.facilitator), to: connections)
    }

    /// Ends the session: counts the current turn and announces the end (connections are closed after the ack).
    private func endSession() {
        if let floor = state.floor {
            let spoken = state.now - floor.startedAt
            state.stats[floor.speaker]?.spoken += spoken
            state.floor = nil
        }
        state.silence = nil
        state.phase = .ended
        emit(.sessionEnded)
    }
}
