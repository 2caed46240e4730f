import CircleJSON
import CircleLoop

/// What the clients receive, read by member name (``ServerMessage``): `signal`, `ack` and `reaction` are measured,
/// room events update what each client knows of its room.
extension LoadRunner {
    func received(_ text: [UInt8], by client: LoadClient) {
        metrics.received += 1
        let now = EventLoop.hrtime
        guard let message = ServerMessage(text) else {
            metrics.error("unparsable_message")
            return
        }
        if message.isType("signal") {
            receivedSignal(message, by: client, now: now)
        } else if message.isType("ack") {
            receivedAck(message.request ?? 0, by: client, now: now)
        } else if message.isType("reaction") {
            if let from = message.from, let sender = sender(in: client.room, from), sender.lastReactionSentAt > 0 {
                measured(now &- min(now, sender.lastReactionSentAt))
            }
        } else if let type = message.type {
            receivedMessage(type, message, by: client, now: now)
        } else {
            metrics.error("unparsable_message")
        }
    }

    func measured(_ latency: UInt64) {
        metrics.delivered += 1
        metrics.latency.record(nanoseconds: latency)
        metrics.latencyThisSecond.record(nanoseconds: latency)
    }

    /// The client of `participant` in room `room` (`f` is seat 0, `mK` seat K).
    func sender(in room: Int, _ participant: ArraySlice<UInt8>) -> LoadClient? {
        guard let first = participant.first else { return nil }
        if first == UInt8(ascii: "f") { return participant.count == 1 ? rooms[room][0] : nil }
        var seat = 0
        for b in participant.dropFirst() {
            guard b >= 0x30 && b <= 0x39, seat < 1_000_000 else { return nil }
            seat = seat * 10 + Int(b - 0x30)
        }
        return seat > 0 && seat < rooms[room].count ? rooms[room][seat] : nil
    }

    private func sender(in room: Int, _ participant: String) -> LoadClient? {
        sender(in: room, ArraySlice(participant.utf8))
    }

    private func receivedSignal(_ message: ServerMessage, by client: LoadClient, now: UInt64) {
        guard let probe = message.probe else { return }  // not one of ours
        if probe.sentAt <= now { measured(now - probe.sentAt) }
        guard configuration.scenario == .session, let from = message.from else { return }
        let peer = String(decoding: from, as: UTF8.self)
        switch probe.letter {
        case .offer: answer(peer, by: client)
        case .answer: sendCandidates(to: peer, by: client)
        case .candidate, nil: break
        }
    }

    private func receivedAck(_ request: Int, by client: LoadClient, now: UInt64) {
        metrics.acks += 1
        if let pending = client.outstanding.removeValue(forKey: request) {
            metrics.ackLatency.record(nanoseconds: now &- min(now, pending.sentAt))
        }
        if client.stateRequest == request { client.stateRequest = 0 }
        if configuration.scenario == .fanout { fanoutSend(client, now: now) }
    }

    private func receivedMessage(_ type: String, _ message: ServerMessage, by client: LoadClient, now: UInt64) {
        if type != "welcome", let seq = message.seq {
            if client.lastSeq != 0 && UInt64(seq) != client.lastSeq + 1 { metrics.error("seq_gap") }
            client.lastSeq = UInt64(seq)
            apply(type, message.event, to: client, now: now, live: true)
            return
        }
        switch type {
        case "welcome":
            // Rare (one per join): read whole.
            guard let tree = message.tree() else {
                metrics.error("unparsable_message")
                return
            }
            // A member who reached the server before the room's facilitator waits; the full welcome follows.
            if tree["state"]?.stringValue == "waiting_for_facilitator" { return }
            welcomed(tree, by: client, now: now)
        case "error":
            let code = message.code ?? "unknown"
            let request = message.request
            // Races a real group meets too, not errors: a command to someone who just dropped (`reconnecting`), and
            // a `give_floor` sent from a view of the queue that emptied on the way (`not_found`).
            let raced = code == "not_found" && request != nil && request == client.giveFloorRequest
            if code == "reconnecting" || raced {
                metrics.races[code, default: 0] += 1
            } else {
                metrics.error(code)
            }
            if let request {
                client.outstanding[request] = nil
                if client.stateRequest == request { client.stateRequest = 0 }
                if configuration.scenario == .fanout { fanoutSend(client, now: now) }
            }
        case "mute_request":
            if client.mic { sendMedia(client, mic: false, camera: nil) }
        default:
            break  // turn_nudge, turn_time_up, stats, private_word: nothing to do
        }
    }

    // MARK: Room events

    /// Updates what `client` knows of its room; `live` events (not replayed) are measured.
    func apply(_ type: String, _ message: EventFields, to client: LoadClient, now: UInt64, live: Bool) {
        let participant = message.participant
        switch type {
        case "participant_joined":
            if let p = participant, p != client.participant, let peer = sender(in: client.room, p) {
                client.connectedPeers.insert(peer.seat)
            }
        case "participant_left":
            if let p = participant, let peer = sender(in: client.room, p) { client.connectedPeers.remove(peer.seat) }
        case "connection_changed":
            if let p = participant, p != client.participant, let peer = sender(in: client.room, p) {
                if message.connection == "connected" {
                    client.connectedPeers.insert(peer.seat)
                } else {
                    client.connectedPeers.remove(peer.seat)
                }
            }
        case "media_changed":
            if live, let p = participant, let sender = sender(in: client.room, p), sender.lastMediaSentAt > 0 {
                measured(now &- min(now, sender.lastMediaSentAt))
            }
        case "queue_changed":
            client.queue = message.queue ?? []
        case "floor_given":
            client.floor = participant
            if participant == client.participant { client.spokeThisRound = true }
        case "turn_ended":
            client.floor = nil
        case "phase_changed":
            let phase = message.phase ?? client.phase
            if phase != client.phase && (phase == "intro" || phase == "close") && client.phase != "silence" {
                client.spokeThisRound = false
                client.passedThisRound = false
            }
            client.phase = phase
        case "session_ended":
            client.sessionEnded = true
            client.finalView = view(of: client)
        default:
            break
        }
    }
}

/// The few members of a room event the load clients act on.
struct EventFields {
    var participant: String?
    var connection: String?
    var phase: String?
    var queue: [String]?

    /// The fields of an event inside a welcome's `replay`.
    init(_ event: JSON) {
        participant = event["participant"]?.stringValue
        connection = event["connection"]?.stringValue
        phase = event["phase"]?.stringValue
        queue = event["queue"]?.arrayValue?.compactMap(\.stringValue)
    }

    init(participant: String?, connection: String?, phase: String?, queue: [String]?) {
        self.participant = participant
        self.connection = connection
        self.phase = phase
        self.queue = queue
    }
}
