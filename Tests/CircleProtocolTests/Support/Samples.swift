@testable import CircleRoom

/// Hand-built engine values covering every outbound message, every event and every command.
enum Samples {
    static func view(
        _ id: String, name: String = "Ana María \"Ani\" ✨", role: Role = .member, connection: ConnectionState = .connected,
        mic: Bool = true, camera: Bool = false, muted: Bool = false
    ) -> ParticipantView {
        ParticipantView(id: id, name: name, role: role, connection: connection, mic: mic, camera: camera, muted: muted)
    }

    static let pacing = Pacing(turnLength: .seconds(180), nudgeBefore: .seconds(30), autoAdvance: true)

    static let round = [
        RoundEntry(participant: "m1", status: .done), RoundEntry(participant: "m2", status: .passed),
        RoundEntry(participant: "m3", status: .waiting),
    ]

    /// One of every `RoomEvent` case (optional fields both present and absent).
    static let events: [RoomEvent] = [
        .participantJoined(view("m1")),
        .participantLeft("m1", reason: .timedOut),
        .connectionChanged("m1", .reconnecting),
        .mediaChanged("m1", mic: false, camera: true),
        .muteChanged(["m1", "m2"], muted: true),
        .muteChanged([], muted: false),
        .roleChanged("m1", .cofacilitator),
        .queueChanged(["m2", "m1"], policy: .leastSpoken),
        .floorGiven("m2", turnLength: .seconds(180)),
        .floorGiven("m2", turnLength: nil),
        .turnEnded("m2", reason: .timeUp),
        .roundChanged(round),
        .roundChanged([]),
        .phaseChanged(.silence, silence: .milliseconds(90_500), returnsTo: .sharing),
        .phaseChanged(.sharing, silence: nil),
        .pacingChanged(pacing),
        .pacingChanged(.unpaced),
        .lockChanged(locked: true),
        .sessionEnded,
    ]

    static let snapshot = Snapshot(
        phase: .silence, silenceReturnsTo: .intro,
        participants: [view("f1", role: .facilitator), view("m1", connection: .reconnecting, muted: true),
                       view("o1", role: .observer, mic: false)],
        queue: ["m1"], queuePolicy: .fifo, floor: "f1", turnLength: .seconds(120), round: round, pacing: pacing,
        locked: true)

    static let bareSnapshot = Snapshot(
        phase: .intro, silenceReturnsTo: nil, participants: [], queue: [], queuePolicy: .fifo, floor: nil,
        turnLength: nil, round: [], pacing: .unpaced, locked: false)

    /// One of every `Outbound` case, with every event and both kinds of welcome.
    static var outbound: [Outbound] {
        var messages: [Outbound] = [
            .welcome(Welcome(participant: "m1", role: .member, seq: 12, resumed: false, catchUp: .snapshot(snapshot),
                             timeLeft: TimeLeft(silence: .seconds(42), turn: .milliseconds(1500)))),
            .welcome(Welcome(participant: "m1", role: .member, seq: 0, resumed: false, catchUp: .snapshot(bareSnapshot),
                             timeLeft: TimeLeft())),
            .welcome(Welcome(participant: "m1", role: .cofacilitator, seq: 14, resumed: true,
                             catchUp: .replay([SequencedEvent(seq: 13, event: .lockChanged(locked: false)),
                                               SequencedEvent(seq: 14, event: .participantJoined(view("m9")))]),
                             timeLeft: TimeLeft(silence: .seconds(5)))),
            .welcome(Welcome(participant: "m1", role: .member, seq: 14, resumed: true, catchUp: .replay([]),
                             timeLeft: TimeLeft())),
            .ack("r1"),
            .error("r2", .forbidden, message: ErrorCode.forbidden.defaultMessage),
            .error(nil, .roomFull, message: ErrorCode.roomFull.defaultMessage),
            .signal(from: "m1", payload: Array(#"{"sdp":"v=0\r\n","type":"offer"}"#.utf8)),
            .reaction(from: "m1", .heart),
            .privateWord(from: "m1", text: "I need a moment"),
            .privateWord(from: "m1", text: nil),
            .privateWordSeen(participant: "m1", by: "f1"),
            .turnNudge(speaker: "m2", timeLeft: .seconds(30)),
            .turnTimeUp(speaker: "m2"),
            .muteRequest(.silence),
            .muteRequest(.facilitator),
            .stats([SpeakingStats(participant: "m1", turns: 2, passes: 1, spoken: .milliseconds(183_250)),
                    SpeakingStats(participant: "m2")]),
            .waitingForFacilitator(participant: "m1", role: .member),
        ]
        for error in ErrorCode.allCases { messages.append(.error("e", error, message: error.defaultMessage)) }
        for (i, event) in events.enumerated() { messages.append(.event(SequencedEvent(seq: UInt64(i + 1), event: event))) }
        return messages
    }
}
