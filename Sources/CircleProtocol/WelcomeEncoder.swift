import CircleJSON
import CircleRoom

/// The welcome: who you are, where the room is (`seq`), and either a `snapshot` or the `replay` of missed events.
enum WelcomeEncoder {
    static func write(_ welcome: Welcome, into w: inout JSONWriter) {
        w.beginObject()
        w.member("type", literal: "welcome")
        w.member("protocol", WireProtocol.version)
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
        w.member("speaker", snapshot.floor)
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
        case .snapshot(let snapshot):
            var n = 512 + welcome.participant.utf8.count + (snapshot.floor?.utf8.count ?? 0)
            for view in snapshot.participants { n += 2 + EventEncoder.fieldsSize(view) }
            for id in snapshot.queue { n += 3 + id.utf8.count }
            return n + EventEncoder.roundSize(snapshot.round)
        case .replay(let events): return 192 + events.reduce(0) { $0 + EventEncoder.estimatedSize(of: $1.event) }
        }
    }
}
