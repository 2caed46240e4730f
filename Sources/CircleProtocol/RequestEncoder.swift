import CircleJSON
import CircleRoom

/// Client requests as JSON text (the inverse of ``RequestDecoder``), for test clients and load tools.
enum RequestEncoder {
    static func write(_ request: ClientRequest, into w: inout JSONWriter) {
        let command = request.command
        w.beginObject()
        w.member("type", command.wireName)
        w.member("id", request.id)
        switch command {
        case .leave, .raiseHand, .lowerHand, .pass, .endTurn, .advanceRound, .endSilence, .clearQueue,
            .muteAllButSpeaker, .lock, .unlock, .endSession, .requestStats:
            break
        case .signal(let target, let payload):
            switch target {
            case .participant(let id): w.member("to", id)
            case .everyone: w.member("to_all", true)
            }
            w.key("payload")
            if payload.isEmpty { w.null() } else { w.raw(payload) }
        case .media(let mic, let camera):
            if let mic { w.member("mic", mic) }
            if let camera { w.member("camera", camera) }
        case .reaction(let kind):
            w.member("kind", kind.wireName)
        case .privateWord(let text):
            w.member("text", text)
        case .setPhase(let phase):
            w.member("phase", phase.wireName)
        case .startSilence(let length):
            w.member("silence_ms", milliseconds: length)
        case .giveFloor(let id):
            w.member("participant", id)
        case .moveInQueue(let id, let position):
            w.member("participant", id)
            w.member("position", position)
        case .removeFromQueue(let id), .mute(let id), .unmute(let id), .remove(let id), .promote(let id),
            .privateWordSeen(let id):
            w.member("participant", id)
        case .setQueuePolicy(let policy):
            w.member("queue_policy", policy.wireName)
        case .setPacing(let pacing):
            w.member("turn_length_ms", milliseconds: pacing.turnLength)
            w.member("nudge_before_ms", milliseconds: pacing.nudgeBefore)
            w.member("auto_advance", pacing.autoAdvance)
        }
        w.endObject()
    }
}
