extension Room {
    /// Runs a command whose permission was checked. Throws before changing anything when the command is refused.
    func perform(_ command: Command, by sender: ParticipantID, role: Role, on connection: ConnectionID)
        throws(CommandError) -> Completion
    {
        switch command {
        case .leave:
            removeParticipant(sender, reason: .left)
            return .close(connection, code: CloseCode.normal, reason: "left")
        case .signal(let target, let payload):
            try relaySignal(from: sender, on: connection, to: target, payload: payload)
        case .media(let mic, let camera):
            try reportMedia(sender, mic: mic, camera: camera)
        case .raiseHand:
            try raiseHand(sender)
        case .lowerHand:
            if let index = state.queue.firstIndex(of: sender) {
                state.queue.remove(at: index)
                emit(.queueChanged(state.queue, policy: state.queuePolicy))
            }
        case .pass:
            try pass(sender)
        case .endTurn:
            guard let floor = state.floor else { throw CommandError(.conflict, "no one has the floor") }
            if floor.speaker == sender {
                finishTurn(.finished)
            } else if role.canFacilitate {
                finishTurn(.facilitator)
            } else {
                throw CommandError(.forbidden, "not your turn")
            }
            advanceAfterTurn()
        case .reaction(let kind):
            let (now, config) = (state.now, state.config)
            guard
                state.participants[sender]?.reactions.take(
                    now: now, burst: config.reactionBurst, refill: config.reactionRefill) == true
            else { throw CommandError(.rateLimited, "too many reactions") }
            deliver(.reaction(from: sender, kind), to: recipients)
        case .privateWord(let text):
            if let text, text.utf8.count > state.config.maxPrivateWordBytes {
                throw CommandError(.tooLarge, "text too long")
            }
            let facilitators = facilitatorConnections(excluding: sender)
            guard !facilitators.isEmpty else { throw CommandError(.notFound, "no facilitator connected") }
            let text = text.flatMap { $0.isEmpty ? nil : $0 }
            deliver(.privateWord(from: sender, text: text), to: facilitators)
        default:
            return try performControl(command, by: sender, role: role, on: connection)
        }
        return .done
    }

    private func relaySignal(
        from sender: ParticipantID, on connection: ConnectionID, to target: SignalTarget, payload: [UInt8]
    ) throws(CommandError) {
        guard payload.count <= state.config.maxSignalBytes else { throw CommandError(.tooLarge, "payload too large") }
        switch target {
        case .everyone:
            // Filled as a local (one access to the room's property, not one per recipient), then kept for next time.
            var others: [ConnectionID] = []
            swap(&others, &othersScratch)
            others.removeAll(keepingCapacity: true)
            others.reserveCapacity(recipients.count)
            for recipient in recipients where recipient != connection { others.append(recipient) }
            othersScratch = others
            deliver(.signal(from: sender, payload: payload), to: others)
        case .participant(let id):
            guard id != sender else { throw CommandError(.invalid, "cannot signal yourself") }
            guard let target = state.participants.connection(of: id) else {
                // Held in their grace: their client renegotiates on its return, so a signal is not kept for it.
                if state.participants[id] != nil { throw CommandError(.reconnecting, "participant reconnecting") }
                throw CommandError(.notFound, "participant not connected")
            }
            deliver(.signal(from: sender, payload: payload), to: target)
        }
    }

    private func reportMedia(_ id: ParticipantID, mic: Bool?, camera: Bool?) throws(CommandError) {
        guard let view = state.participants[id]?.view else { return }
        if mic == true, view.muted {
            throw CommandError(.muted, "held muted by a facilitator")
        }
        let newMic = mic ?? view.mic
        let newCamera = camera ?? view.camera
        guard newMic != view.mic || newCamera != view.camera else { return }
        state.participants[id]?.view.mic = newMic
        state.participants[id]?.view.camera = newCamera
        emit(.mediaChanged(id, mic: newMic, camera: newCamera))
    }

    private func raiseHand(_ id: ParticipantID) throws(CommandError) {
        guard state.floor?.speaker != id else { throw CommandError(.conflict, "you have the floor") }
        guard !state.queue.contains(id) else { return }
        state.queue.insert(id, at: queueInsertionIndex(for: id))
        emit(.queueChanged(state.queue, policy: state.queuePolicy))
    }

    private func pass(_ id: ParticipantID) throws(CommandError) {
        guard state.phase.hasRound else { throw CommandError(.wrongPhase, "no round to pass in") }
        if state.floor?.speaker == id {
            finishTurn(.passed)
            advanceAfterTurn()
            return
        }
        guard let index = state.round.firstIndex(where: { $0.participant == id && $0.status == .waiting }) else {
            throw CommandError(.conflict, "no turn to pass")
        }
        state.round[index].status = .passed
        state.stats[id]?.passes += 1
        emit(.roundChanged(state.round))
    }
}
