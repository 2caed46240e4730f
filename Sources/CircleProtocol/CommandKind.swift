import CircleJSON

/// Every client message `type`, with the fields each may carry besides `type` and `id`.
enum CommandKind: String, CaseIterable {
    case leave
    case signal
    case media
    case raiseHand = "raise_hand"
    case lowerHand = "lower_hand"
    case pass
    case endTurn = "end_turn"
    case reaction
    case privateWord = "private_word"
    case setPhase = "set_phase"
    case advanceRound = "advance_round"
    case startSilence = "start_silence"
    case endSilence = "end_silence"
    case giveFloor = "give_floor"
    case moveInQueue = "move_in_queue"
    case removeFromQueue = "remove_from_queue"
    case clearQueue = "clear_queue"
    case setQueuePolicy = "set_queue_policy"
    case setPacing = "set_pacing"
    case mute
    case unmute
    case muteAllButSpeaker = "mute_all_but_speaker"
    case lock
    case unlock
    case remove
    case promote
    case endSession = "end_session"
    case requestStats = "request_stats"
    case privateWordSeen = "private_word_seen"

    /// The fields this command may carry besides `type` and `id` (one bit per ``Field``); any other member makes
    /// the message `invalid`.
    var fields: UInt32 {
        switch self {
        case .leave, .raiseHand, .lowerHand, .pass, .endTurn, .advanceRound, .endSilence, .clearQueue,
            .muteAllButSpeaker, .lock, .unlock, .endSession, .requestStats:
            0
        case .signal: Field.to.bit | Field.toAll.bit | Field.payload.bit
        case .media: Field.mic.bit | Field.camera.bit
        case .reaction: Field.kind.bit
        case .privateWord: Field.text.bit
        case .setPhase: Field.phase.bit
        case .startSilence: Field.silenceMs.bit
        case .giveFloor, .removeFromQueue, .mute, .unmute, .remove, .promote, .privateWordSeen: Field.participant.bit
        case .moveInQueue: Field.participant.bit | Field.position.bit
        case .setQueuePolicy: Field.queuePolicy.bit | Field.policy.bit  // `policy`: the v1 alias
        case .setPacing: Field.turnLengthMs.bit | Field.nudgeBeforeMs.bit | Field.autoAdvance.bit
        }
    }

    /// The command whose `type` is the string `value` (a validated JSON string in `text`), compared as Swift
    /// strings — plain ASCII literals by their bytes, which is the same thing for them.
    static func named(_ value: JSONSpan, in text: UnsafeRawBufferPointer) -> CommandKind? {
        guard value.isPlain else { return value.stringValue(in: text).flatMap { CommandKind(rawValue: $0) } }
        let start = value.range.lowerBound + 1, count = value.range.count - 2
        search: for entry in wireBytes where entry.bytes.count == count {
            for k in 0..<count where entry.bytes[k] != text[start + k] { continue search }
            return entry.kind
        }
        return nil
    }

    private static let wireBytes: [(kind: CommandKind, bytes: [UInt8])] = allCases.map { ($0, Array($0.rawValue.utf8)) }
}
