import CircleJSON
import CircleRoom

/// Server → client messages. Direct messages carry no `seq`; events are written by ``EventEncoder``, the welcome
/// by ``WelcomeEncoder``.
enum OutboundEncoder {
    static func write(_ message: Outbound, into w: inout JSONWriter) {
        switch message {
        case .welcome(let welcome):
            WelcomeEncoder.write(welcome, into: &w)
        case .event(let event):
            EventEncoder.write(event, into: &w)
        case .ack(let id):
            w.beginObject()
            w.member("type", literal: "ack")
            w.member("id", id)
            w.endObject()
        case .error(let id, let code, let message):
            w.beginObject()
            w.member("type", literal: "error")
            w.member("id", id)
            w.member("code", code.wireName)
            w.member("message", message)
            w.endObject()
        case .signal(let from, let payload):
            w.beginObject()
            w.member("type", literal: "signal")
            w.member("from", from)
            w.key("payload")
            // The decoder only ever produces a complete JSON value; an empty payload can only come from a caller
            // building one by hand, and must not produce broken JSON.
            if payload.isEmpty { w.null() } else { w.raw(payload) }
            w.endObject()
        case .reaction(let from, let kind):
            w.beginObject()
            w.member("type", literal: "reaction")
            w.member("from", from)
            w.member("kind", kind.wireName)
            w.endObject()
        case .privateWord(let from, let text):
            w.beginObject()
            w.member("type", literal: "private_word")
            w.member("from", from)
            w.member("text", text)
            w.endObject()
        case .privateWordSeen(let participant, let by):
            w.beginObject()
            w.member("type", literal: "private_word_seen")
            w.member("participant", participant)
            w.member("by", by)
            w.endObject()
        case .turnNudge(let speaker, let timeLeft):
            w.beginObject()
            w.member("type", literal: "turn_nudge")
            w.member("speaker", speaker)
            w.member("time_left_ms", milliseconds: timeLeft)
            w.endObject()
        case .turnTimeUp(let speaker):
            w.beginObject()
            w.member("type", literal: "turn_time_up")
            w.member("speaker", speaker)
            w.endObject()
        case .muteRequest(let reason):
            w.beginObject()
            w.member("type", literal: "mute_request")
            w.member("reason", reason.wireName)
            w.endObject()
        case .stats(let stats):
            w.beginObject()
            w.member("type", literal: "stats")
            w.key("stats")
            w.beginArray()
            for entry in stats {
                w.beginObject()
                w.member("participant", entry.participant)
                w.member("turns", entry.turns)
                w.member("passes", entry.passes)
                w.member("spoken_ms", milliseconds: entry.spoken)
                w.endObject()
            }
            w.endArray()
            w.endObject()
        case .waitingForFacilitator(let participant, let role):
            w.beginObject()
            w.member("type", literal: "welcome")
            w.member("protocol", WireProtocol.version)
            w.member("state", literal: "waiting_for_facilitator")
            w.member("participant", participant)
            w.member("role", role.rawValue)
            w.endObject()
        }
    }

    /// A capacity that usually fits the whole text, so the writer grows at most once.
    static func estimatedSize(of message: Outbound) -> Int {
        switch message {
        case .signal(_, let payload): 64 + payload.count
        case .welcome(let welcome): WelcomeEncoder.estimatedSize(of: welcome)
        case .stats(let stats): 32 + 64 * stats.count
        case .event(let event): EventEncoder.estimatedSize(of: event.event)
        default: 128
        }
    }
}
