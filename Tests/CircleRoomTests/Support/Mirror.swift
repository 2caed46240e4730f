@testable import CircleRoom

/// What a client would hold: the welcome's snapshot (or a previous view plus the replay) with every event applied.
/// Checks that events arrive in strict sequence.
struct Mirror {
    private(set) var view: Snapshot
    private(set) var seq: UInt64
    private(set) var gaps: [String] = []

    /// Builds the view a client on `connection` holds, from its last welcome and the events after it.
    /// A replay welcome needs the view the client held before (`base`).
    init?(_ messages: [Outbound], base: Mirror? = nil) {
        guard let index = messages.lastIndex(where: { if case .welcome = $0 { true } else { false } }),
            case .welcome(let welcome) = messages[index]
        else { return nil }
        switch welcome.catchUp {
        case .snapshot(let snapshot):
            view = snapshot
            seq = welcome.seq
        case .replay(let events):
            guard let base else { return nil }
            view = base.view
            seq = base.seq
            for event in events { apply(event) }
            if seq != welcome.seq { gaps.append("replay ends at \(seq), welcome says \(welcome.seq)") }
        }
        for message in messages[(index + 1)...] {
            if case .event(let event) = message { apply(event) }
        }
    }

    mutating func apply(_ sequenced: SequencedEvent) {
        if sequenced.seq != seq + 1 { gaps.append("expected \(seq + 1), got \(sequenced.seq)") }
        seq = sequenced.seq
        switch sequenced.event {
        case .participantJoined(let participant):
            view.participants.append(participant)
        case .participantLeft(let id, _):
            view.participants.removeAll { $0.id == id }
        case .connectionChanged(let id, let state):
            update(id) { $0.connection = state }
        case .mediaChanged(let id, let mic, let camera):
            update(id) {
                $0.mic = mic
                $0.camera = camera
            }
        case .muteChanged(let ids, let muted):
            for id in ids { update(id) { $0.muted = muted } }
        case .roleChanged(let id, let role):
            update(id) { $0.role = role }
        case .queueChanged(let queue, let policy):
            view.queue = queue
            view.queuePolicy = policy
        case .floorGiven(let id, let length):
            view.floor = id
            view.turnLength = length
        case .turnEnded:
            view.floor = nil
            view.turnLength = nil
        case .roundChanged(let round):
            view.round = round
        case .phaseChanged(let phase, _, let returnsTo):
            // Protocol 2: the event says where a silence returns; the mirror need not remember the phase before.
            view.silenceReturnsTo = returnsTo
            view.phase = phase
        case .pacingChanged(let pacing):
            view.pacing = pacing
        case .lockChanged(let locked):
            view.locked = locked
        case .sessionEnded:
            view.phase = .ended
            view.floor = nil
            view.turnLength = nil
            view.silenceReturnsTo = nil
        }
    }

    private mutating func update(_ id: ParticipantID, _ change: (inout ParticipantView) -> Void) {
        if let index = view.participants.firstIndex(where: { $0.id == id }) {
            change(&view.participants[index])
        }
    }
}
