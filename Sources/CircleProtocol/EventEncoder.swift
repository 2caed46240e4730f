import CircleJSON
import CircleRoom

/// Room events, flat: `{"type":"<event>","seq":N, …fields}`. The same text is used live and inside a welcome's
/// `replay`.
enum EventEncoder {
    static func write(_ sequenced: SequencedEvent, into w: inout JSONWriter) {
        let event = sequenced.event
        // The events every join and leave broadcasts are written in runs of constant text.
        switch event {
        case .participantJoined(let view):
            return w.writeDirect(bound: 64 + fieldsBound(view)) { d in
                d.raw(#"{"type":"participant_joined","seq":"#)
                d.int(Int(clamping: sequenced.seq))
                d.raw(",")
                writeFields(of: view, into: &d)
                d.raw("}")
            }
        case .roundChanged(let round):
            return w.writeDirect(bound: 64 + roundBound(round)) { d in
                d.raw(#"{"type":"round_changed","seq":"#)
                d.int(Int(clamping: sequenced.seq))
                d.raw(#","round":"#)
                write(round, into: &d)
                d.raw("}")
            }
        case .participantLeft(let id, let reason):
            return w.writeDirect(bound: 96 + DirectJSONWriter.bound(id)) { d in
                d.raw(#"{"type":"participant_left","seq":"#)
                d.int(Int(clamping: sequenced.seq))
                d.raw(#","participant":"#)
                d.string(id)
                d.raw(#","reason":"#)
                d.wireName(reason.wireName)
                d.raw("}")
            }
        default:
            break
        }
        w.beginObject()
        w.member("type", event.wireName)
        w.member("seq", sequenced.seq)
        switch event {
        case .participantJoined, .participantLeft, .roundChanged:
            break  // written above
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
            w.member("policy", policy.wireName)
        case .floorGiven(let id, let turnLength):
            w.member("participant", id)
            w.member("turn_length_ms", milliseconds: turnLength)
        case .turnEnded(let id, let reason):
            w.member("participant", id)
            w.member("reason", reason.wireName)
        case .phaseChanged(let phase, let silence):
            w.member("phase", phase.wireName)
            w.member("silence_ms", milliseconds: silence)
        case .pacingChanged(let pacing):
            w.key("pacing")
            w.writeDirect(bound: 96) { d in write(pacing, into: &d) }
        case .lockChanged(let locked):
            w.member("locked", locked)
        case .sessionEnded:
            break
        }
        w.endObject()
    }

    /// A participant record's members (in `participant_joined` and in a snapshot's `participants`).
    static func writeFields(of view: ParticipantView, into d: inout DirectJSONWriter) {
        d.raw(#""participant":"#)
        d.string(view.id)
        d.raw(#","name":"#)
        d.string(view.name)
        d.raw(#","role":"#)
        d.wireName(view.role.rawValue)
        d.raw(#","connection":"#)
        d.wireName(view.connection.wireName)
        d.raw(#","mic":"#)
        d.bool(view.mic)
        d.raw(#","camera":"#)
        d.bool(view.camera)
        d.raw(#","muted":"#)
        d.bool(view.muted)
    }

    /// An upper bound of what ``writeFields(of:into:)`` writes (constant text: 86 bytes).
    static func fieldsBound(_ view: ParticipantView) -> Int {
        typealias D = DirectJSONWriter
        return 112 + D.bound(view.id) + D.bound(view.name) + 2 * D.wireNameBound
    }

    /// `[{"participant":…,"status":…}, …]`
    static func write(_ round: [RoundEntry], into d: inout DirectJSONWriter) {
        d.raw("[")
        var first = true
        for entry in round {
            if first { first = false } else { d.raw(",") }
            d.raw(#"{"participant":"#)
            d.string(entry.participant)
            d.raw(#","status":"#)
            d.wireName(entry.status.wireName)
            d.raw("}")
        }
        d.raw("]")
    }

    /// An upper bound of what ``write(_:into:)-([RoundEntry],_)`` writes.
    static func roundBound(_ round: [RoundEntry]) -> Int {
        var n = 2
        for entry in round {
            n += 40 + DirectJSONWriter.bound(entry.participant) + DirectJSONWriter.wireNameBound
        }
        return n
    }

    /// `{"turn_length_ms":…?,"nudge_before_ms":…,"auto_advance":…}` (at most 96 bytes).
    static func write(_ pacing: Pacing, into d: inout DirectJSONWriter) {
        d.raw("{")
        if let turnLength = pacing.turnLength {
            d.raw(#""turn_length_ms":"#)
            d.milliseconds(turnLength)
            d.raw(",")
        }
        d.raw(#""nudge_before_ms":"#)
        d.milliseconds(pacing.nudgeBefore)
        d.raw(#","auto_advance":"#)
        d.bool(pacing.autoAdvance)
        d.raw("}")
    }

    static func estimatedSize(of event: RoomEvent) -> Int {
        switch event {
        case .participantJoined(let view): 64 + fieldsBound(view)
        case .participantLeft(let id, _): 96 + DirectJSONWriter.bound(id)
        case .muteChanged(let ids, _): 64 + 40 * ids.count
        case .queueChanged(let queue, _): 80 + 40 * queue.count
        case .roundChanged(let round): 64 + roundBound(round)
        default: 128
        }
    }
}
