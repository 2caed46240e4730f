import CircleJSON
import CircleRoom

/// The welcome: who you are, where the room is (`seq`), and either a `snapshot` or the `replay` of missed events.
enum WelcomeEncoder {
    static func write(_ welcome: Welcome, into w: inout JSONWriter) {
        switch welcome.catchUp {
        case .snapshot(let snapshot):
            // A new join's welcome is the largest message of a join: written in runs of constant text.
            w.writeDirect(bound: directBound(welcome, snapshot)) { d in
                writeHeader(welcome, into: &d)
                d.raw(#","snapshot":"#)
                write(snapshot, into: &d)
                d.raw("}")
            }
        case .replay(let events):
            w.writeDirect(bound: headerBound(welcome) + 16) { d in
                writeHeader(welcome, into: &d)
                d.raw(#","replay":["#)
            }
            for event in events { EventEncoder.write(event, into: &w) }
            w.endArray()
            w.endObject()
        }
    }

    /// `{"type":"welcome",…,"time_left":{…}`: the members before the catch-up.
    private static func writeHeader(_ welcome: Welcome, into d: inout DirectJSONWriter) {
        d.raw(#"{"type":"welcome","participant":"#)
        d.string(welcome.participant)
        d.raw(#","role":"#)
        d.wireName(welcome.role.rawValue)
        d.raw(#","seq":"#)
        d.int(Int(clamping: welcome.seq))
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
        d.raw("}")
    }

    /// An upper bound of what ``writeHeader(_:into:)`` writes.
    private static func headerBound(_ welcome: Welcome) -> Int {
        200 + DirectJSONWriter.bound(welcome.participant) + DirectJSONWriter.wireNameBound
    }

    /// `{"phase":…,"participants":[…],…,"locked":…}`
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
        var n = 640 + D.bound(welcome.participant) + 4 * D.wireNameBound  // role, phase, returns to, policy
        if let floor = snapshot.floor { n += D.bound(floor) }
        for view in snapshot.participants { n += 2 + EventEncoder.fieldsBound(view) }
        for id in snapshot.queue { n += 1 + D.bound(id) }
        n += EventEncoder.roundBound(snapshot.round)
        return n
    }

    static func estimatedSize(of welcome: Welcome) -> Int {
        switch welcome.catchUp {
        case .snapshot(let snapshot): directBound(welcome, snapshot)
        case .replay(let events): 192 + events.reduce(0) { $0 + EventEncoder.estimatedSize(of: $1.event) }
        }
    }
}
