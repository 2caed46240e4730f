import CircleJSON
import CircleRoom

/// Room events, flat: `{"type":"<event>","seq":N, …fields}`. The same text is used live and inside a welcome's
/// `replay`.
enum EventEncoder {
    static func write(_ sequenced: SequencedEvent, into w: inout JSONWriter) {
        let event = sequenced.event
        w.beginObject()
        w.member("type", event.wireName)
        w.member("seq", sequenced.seq)
        switch event {
        case .participantJoined(let view):
            writeFields(of: view, into: &w)
        case .participantLeft(let id, let reason):
            w.member("participant", id)
            w.member("reason", reason.wireName)
        case .connectionChanged(let id, let state):
            w.member("participant", id)
            w.member("connection", state.wireName)
        case .mediaChanged(let id, let mic, let camera):
            w.member("participant", id)
            w.member("mic", mic)
            w.member("camera", camera)
        case .muteChanged(let ids, let muted):
            w.member("participants", strings: ids)
            w.member("muted", muted)
        case .roleChanged(let id, let role):
            w.member("participant", id)
            w.member("role", role.rawValue)
        case .queueChanged(let queue, let policy):
            w.member("queue", strings: queue)
            w.member("queue_policy", policy.wireName)
        case .floorGiven(let id, let turnLength):
            w.member("speaker", id)
            w.member("turn_length_ms", milliseconds: turnLength)
        case .turnEnded(let id, let reason):
            w.member("speaker", id)
            w.member("reason", reason.wireName)
        case .roundChanged(let round):
            w.key("round")
            write(round, into: &w)
        case .phaseChanged(let phase, let silence, let returnsTo):
            w.member("phase", phase.wireName)
            w.member("silence_ms", milliseconds: silence)
            w.member("silence_returns_to", returnsTo?.wireName)
        case .pacingChanged(let pacing):
            w.key("pacing")
            write(pacing, into: &w)
        case .lockChanged(let locked):
            w.member("locked", locked)
        case .sessionEnded:
            break
        }
        w.endObject()
    }

    /// A participant record's members (in `participant_joined` and in a snapshot's `participants`).
    static func writeFields(of view: ParticipantView, into w: inout JSONWriter) {
        w.member("participant", view.id)
        w.member("name", view.name)
        w.member("role", view.role.rawValue)
        w.member("connection", view.connection.wireName)
        w.member("mic", view.mic)
        w.member("camera", view.camera)
        w.member("muted", view.muted)
    }

    /// `[{"participant":…,"status":…}, …]`
    static func write(_ round: [RoundEntry], into w: inout JSONWriter) {
        w.beginArray()
        for entry in round {
            w.beginObject()
            w.member("participant", entry.participant)
            w.member("status", entry.status.wireName)
            w.endObject()
        }
        w.endArray()
    }

    /// `{"turn_length_ms":…?,"nudge_before_ms":…,"auto_advance":…}`
    static func write(_ pacing: Pacing, into w: inout JSONWriter) {
        w.beginObject()
        w.member("turn_length_ms", milliseconds: pacing.turnLength)
        w.member("nudge_before_ms", milliseconds: pacing.nudgeBefore)
        w.member("auto_advance", pacing.autoAdvance)
        w.endObject()
    }

    static func estimatedSize(of event: RoomEvent) -> Int {
        switch event {
        case .participantJoined(let view): 96 + fieldsSize(view)
        case .muteChanged(let ids, _): 64 + 40 * ids.count
        case .queueChanged(let queue, _): 80 + 40 * queue.count
        case .roundChanged(let round): 64 + roundSize(round)
        default: 128
        }
    }

    /// About the size of a participant record's members (constant text: 86 bytes).
    static func fieldsSize(_ view: ParticipantView) -> Int { 128 + view.id.utf8.count + view.name.utf8.count }

    /// About the size of a round.
    static func roundSize(_ round: [RoundEntry]) -> Int {
        round.reduce(2) { $0 + 48 + $1.participant.utf8.count }
    }
}
