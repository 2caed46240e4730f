/// A timer the room may have running.
enum RoomTimer: Equatable {
    case turnNudge
    case turnEnd
    case silenceEnd
    case grace(ParticipantID)
}

extension Room {
    /// The earliest running timer. Ties go to the turn, then the silence, then graces by participant id, so the
    /// order never depends on dictionary order.
    func earliestTimer() -> (at: Instant, timer: RoomTimer)? {
        guard state.phase != .ended else { return nil }
        var best: (at: Instant, timer: RoomTimer)?
        if let at = state.floor?.nudgeAt { best = (at, .turnNudge) }
        if let at = state.floor?.endsAt, best == nil || at < best!.at { best = (at, .turnEnd) }
        if let at = state.silence?.endsAt, best == nil || at < best!.at { best = (at, .silenceEnd) }
        var grace: (at: Instant, id: ParticipantID)?
        for participant in state.participants.inJoinOrder {
            guard let at = participant.graceEnds else { continue }
            if grace == nil || (at, participant.id) < (grace!.at, grace!.id) { grace = (at, participant.id) }
        }
        if let grace, best == nil || grace.at < best!.at { best = (grace.at, .grace(grace.id)) }
        return best
    }

    /// Advances the room's clock to `now` (never backwards) and fires the timers due by then, earliest first.
    func runTimers(until now: Instant, inclusive: Bool) {
        if now > state.now { state.now = now }
        while let (at, timer) = earliestTimer(), inclusive ? at <= state.now : at < state.now {
            fire(timer)
        }
    }

    private func fire(_ timer: RoomTimer) {
        switch timer {
        case .turnNudge:
            guard let floor = state.floor else { return }
            state.floor?.nudgeAt = nil
            let left = (floor.endsAt ?? state.now) - state.now
            deliver(.turnNudge(speaker: floor.speaker, timeLeft: left), to: nudgeRecipients(floor.speaker))
        case .turnEnd:
            guard let floor = state.floor else { return }
            state.floor?.nudgeAt = nil
            state.floor?.endsAt = nil
            deliver(.turnTimeUp(speaker: floor.speaker), to: nudgeRecipients(floor.speaker))
            if state.pacing.autoAdvance {
                finishTurn(.timeUp)
                advanceAfterTurn()
            }
        case .silenceEnd:
            if let silence = state.silence {
                changePhase(to: silence.returnsTo)
            }
        case .grace(let id):
            removeParticipant(id, reason: .timedOut)
        }
    }

    /// The speaker and the connected facilitators, once each.
    private func nudgeRecipients(_ speaker: ParticipantID) -> [ConnectionID] {
        var result = facilitatorConnections(excluding: speaker)
        if let connection = state.participants[speaker]?.connection {
            result.insert(connection, at: 0)
        }
        return result
    }
}
