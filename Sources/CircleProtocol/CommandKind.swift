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

    /// The fields this command may carry besides `type` and `id`; any other member makes the message `invalid`.
    var fields: [String] {
        switch self {
        case .leave, .raiseHand, .lowerHand, .pass, .endTurn, .advanceRound, .endSilence, .clearQueue,
            .muteAllButSpeaker, .lock, .unlock, .endSession, .requestStats:
            Self.noFields
        case .signal: Self.signalFields
        case .media: Self.mediaFields
        case .reaction: Self.reactionFields
        case .privateWord: Self.privateWordFields
        case .setPhase: Self.setPhaseFields
        case .startSilence: Self.startSilenceFields
        case .giveFloor, .removeFromQueue, .mute, .unmute, .remove, .promote: Self.participantFields
        case .moveInQueue: Self.moveInQueueFields
        case .setQueuePolicy: Self.setQueuePolicyFields
        case .setPacing: Self.setPacingFields
        }
    }

    private static let noFields: [String] = []
    private static let signalFields = ["to", "to_all", "payload"]
    private static let mediaFields = ["mic", "camera"]
    private static let reactionFields = ["kind"]
    private static let privateWordFields = ["text"]
    private static let setPhaseFields = ["phase"]
    private static let startSilenceFields = ["silence_ms"]
    private static let participantFields = ["participant"]
    private static let moveInQueueFields = ["participant", "position"]
    private static let setQueuePolicyFields = ["policy"]
    private static let setPacingFields = ["turn_length_ms", "nudge_before_ms", "auto_advance"]
}
