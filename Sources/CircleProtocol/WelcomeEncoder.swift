import CircleJSON
import CircleRoom

/// The welcome: who you are, where the room is (`seq`), and either a `snapshot` or the `replay` of missed events.
enum WelcomeEncoder {
    static func write(_ welcome: Welcome, into w: inout JSONWriter) {
        // A new join's welcome (a snapshot) is the largest message of a join: written in runs of constant text.
        guard case .snapshot(let snapshot) = welcome.catchUp else { return writeTokens(welcome, into: &w) }
        w.writeDirect(bound: directBound(welcome, snapshot)) { d in
            d.raw(#"{"type":"welcome","participant":"#)
            d.string(welcome.participant)
            d.raw(#","role":"#)
            d.wireName(welcome.role.rawValue)
            d.raw(#","seq":"#)
            d.int(Int(clamping: welcome.seq))
            if welcome.epoch != 0 {
                d.raw(#","epoch":"#)
                d.int(Int(clamping: welcome.epoch))
            }
            d.raw(#","resumed":"#)
            d.bool(welcome.resumed)
            d.raw(#","time_left":{"#)
            if let silence = welcome.timeLeft.silence {
                d.raw(#""silence_ms":"#)
                d.milliseconds(silence)
            }
            if let turn = welcome.timeLeft.turn {
                if welcome.timeLeft.silence != nil { d.raw(",") }
                d.raw(#""turn_ms":"#)
                d.milliseconds(turn)
            }
            d.raw(#"},"snapshot":"#)
            write(snapshot, into: &d)
            d.raw("}")
        }
    }

    /// The snapshot, as ``write(_:into:)-(Snapshot,JSONWriter)`` writes it.
    static func write(_ snapshot: Snapshot, into d: inout DirectJSONWriter) {
        d.raw(#"{"phase":"#)
        d.wireName(snapshot.phase.wireName)
        if let returnsTo = snapshot.silenceReturnsTo {
            d.raw(#","silence_returns_to":"#)
            d.wireName(returnsTo.wireName)
        }
        d.raw(#","participants":["#)
        var first = true
        for view in snapshot.participants {
            if first { first = false } else { d.raw(",") }
            d.raw("{")
            EventEncoder.writeFields(of: view, into: &d)
            d.raw("}")
        }
        d.raw(#"],"queue":["#)
        first = true
        for id in snapshot.queue {
            if first { first = false } else { d.raw(",") }
            d.string(id)
        }
        d.raw(#"],"queue_policy":"#)
        d.wireName(snapshot.queuePolicy.wireName)
        if let floor = snapshot.floor {
            d.raw(#","floor":"#)
            d.string(floor)
        }
        if let turnLength = snapshot.turnLength {
            d.raw(#","turn_length_ms":"#)
            d.milliseconds(turnLength)
        }
        d.raw(#","round":"#)
        EventEncoder.write(snapshot.round, into: &d)
        d.raw(#","pacing":"#)
        EventEncoder.write(snapshot.pacing, into: &d)
        d.raw(#","locked":"#)
        d.bool(snapshot.locked)
        d.raw("}")
    }

    /// An upper bound of the bytes the direct writer writes for a welcome with this snapshot.
    static func directBound(_ welcome: Welcome, _ snapshot: Snapshot) -> Int {
        typealias D = DirectJSONWriter
        // Constant text and numbers of the welcome and the snapshot (about 450 bytes at most), then what varies.
        var n = 664 + D.bound(welcome.participant) + 4 * D.wireNameBound  // role, phase, returns to, policy
        if let floor = snapshot.floor { n += D.bound(floor) }
        for view in snapshot.participants { n += 2 + EventEncoder.fieldsBound(view) }
        for id in snapshot.queue { n += 1 + D.bound(id) }
        n += EventEncoder.roundBound(snapshot.round)
        return n
    }

    /// The welcome one token at a time (a resume's `replay`; and the reference the direct writer is tested against).
    static func writeTokens(_ welcome: Welcome, into w: inout JSONWriter) {
        w.beginObject()
        w.member("type", literal: "welcome")
        w.member("participant", welcome.participant)
        w.member("role", welcome.role.rawValue)
        w.member("seq", welcome.seq)
        if welcome.epoch != 0 { w.member("epoch", welcome.epoch) }
        w.member("resumed", welcome.resumed)
        w.key("time_left")
        w.beginObject()
        w.member("silence_ms", milliseconds: welcome.timeLeft.silence)
        w.member("turn_ms", milliseconds: welcome.timeLeft.turn)
        w.endObject()
        switch welcome.catchUp {
        case .snapshot(let snapshot):
            w.key("snapshot")
            write(snapshot, into: &w)
        case .replay(let events):
            w.key("replay")
            w.beginArray()
            for event in events { EventEncoder.write(event, into: &w) }
            w.endArray()
        }
        w.endObject()
    }

    static func write(_ snapshot: Snapshot, into w: inout JSONWriter) {
        w.beginObject()
        w.member("phase", snapshot.phase.wireName)
        w.member("silence_returns_to", snapshot.silenceReturnsTo?.wireName)
        w.key("participants")
        w.beginArray()
        for view in snapshot.participants {
            w.beginObject()
            EventEncoder.writeFields(of: view, into: &w)
            w.endObject()
        }
        w.endArray()
        w.member("queue", strings: snapshot.queue)
        w.member("queue_policy", snapshot.queuePolicy.wireName)
        w.member("floor", snapshot.floor)
        w.member("turn_length_ms", milliseconds: snapshot.turnLength)
        w.key("round")
        EventEncoder.write(snapshot.round, into: &w)
        w.key("pacing")
        EventEncoder.write(snapshot.pacing, into: &w)
        w.member("locked", snapshot.locked)
        w.endObject()
    }

    static func estimatedSize(of welcome: Welcome) -> Int {
        switch welcome.catchUp {
        case .snapshot(let snapshot): directBound(welcome, snapshot)
        case .replay(let events): 192 + events.reduce(0) { $0 + EventEncoder.estimatedSize(of: $1.event) }
        }
    }
}
