import CircleJSON
import CircleLoop

/// What the clients receive: the frequent messages (`signal`, `ack`, `reaction`) are recognised by their fixed
/// prefix (the server writes fields in a fixed order) and read without building a JSON tree; the rest are parsed.
extension LoadRunner {
    private static let signalPrefix = Array(#"{"type":"signal","from":""#.utf8)
    private static let ackPrefix = Array(#"{"type":"ack","id":"c"#.utf8)
    private static let reactionPrefix = Array(#"{"type":"reaction","from":""#.utf8)
    private static let payloadStamp = Array(#","payload":{"t":"#.utf8)

    func received(_ text: [UInt8], by client: LoadClient) {
        metrics.received += 1
        let now = EventLoop.hrtime
        if text.starts(with: Self.signalPrefix) {
            receivedSignal(text, by: client, now: now)
        } else if text.starts(with: Self.ackPrefix) {
            var i = Self.ackPrefix.count
            let request = Self.readInt(text, &i)
            receivedAck(request, by: client, now: now)
        } else if text.starts(with: Self.reactionPrefix) {
            var i = Self.reactionPrefix.count
            if let sender = sender(in: client.room, Self.readID(text, &i)), sender.lastReactionSentAt > 0 {
                measured(now &- min(now, sender.lastReactionSentAt))
            }
        } else {
            guard let message = ReceivedMessage(text), let type = message.type else {
                metrics.error("unparsable_message")
                return
            }
            receivedMessage(type, message, by: client, now: now)
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

    private func receivedSignal(_ text: [UInt8], by client: LoadClient, now: UInt64) {
        var i = Self.signalPrefix.count
        let from = Self.readID(text, &i)
        guard text[i...].starts(with: Self.payloadStamp) else { return }  // not one of ours
        i += Self.payloadStamp.count
        let stamp = UInt64(Self.readInt(text, &i))
        if stamp > Outgoing.stampBase && stamp - Outgoing.stampBase <= now { measured(now - (stamp - Outgoing.stampBase)) }
        // ,"k":"x"
        let kindIndex = i + 6
        guard configuration.scenario == .session, kindIndex < text.count else { return }
        let peer = String(decoding: from, as: UTF8.self)
        switch text[kindIndex] {
        case UInt8(ascii: "o"):
            answer(peer, by: client)
        case UInt8(ascii: "a"):
            sendCandidates(to: peer, by: client)
        default:
            break
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

    private func receivedMessage(_ type: String, _ message: ReceivedMessage, by client: LoadClient, now: UInt64) {
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
            welcomed(tree, by: client, now: now)
        case "error":
            let code = message.code ?? "unknown"
            // A signal racing its target's drop is refused as `reconnecting`: expected under churn, not an error.
            if code == "reconnecting" { metrics.signalsToReconnecting += 1 } else { metrics.error(code) }
            if let id = message.id, id.hasPrefix("c"), let request = Int(id.dropFirst()) {
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
        default:
            break
        }
    }

    // MARK: Reading

    /// Reads decimal digits at `i` (advancing it); 0 when there are none.
    static func readInt(_ text: [UInt8], _ i: inout Int, from start: Int? = nil) -> Int {
        if let start { i = start }
        var value = 0
        while i < text.count, text[i] >= 0x30, text[i] <= 0x39 {
            value = value &* 10 &+ Int(text[i] - 0x30)
            i += 1
        }
        return value
    }

    /// Reads a participant id up to its closing quote (ours never need escapes), leaving `i` after the quote.
    static func readID(_ text: [UInt8], _ i: inout Int) -> ArraySlice<UInt8> {
        let start = i
        while i < text.count && text[i] != UInt8(ascii: "\"") { i += 1 }
        defer { i += 1 }
        return text[start..<i]
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

/// A received message other than the fast-pathed `signal`, `ack` and `reaction`: validated as strictly as the tree
/// parser would, but only the members the clients read are noted; strings are built when asked for.
struct ReceivedMessage {
    let text: [UInt8]
    private let spans: Spans

    /// Nil unless `text` is one valid JSON object.
    init?(_ text: [UInt8]) {
        self.text = text
        var spans = Spans()
        let valid = text.withUnsafeBytes { raw in
            (try? JSON.scanTopObject(raw) { member in spans.note(member, in: raw) }) != nil
        }
        guard valid else { return nil }
        self.spans = spans
    }

    var type: String? { string(spans.type) }

    /// `seq`, when it is an exact integer.
    var seq: Int? {
        guard let seq = spans.seq else { return nil }
        return text.withUnsafeBytes { seq.intValue(in: $0) }
    }

    /// The members an event's handling reads.
    var event: EventFields {
        EventFields(
            participant: string(spans.participant), connection: string(spans.connection), phase: string(spans.phase),
            queue: spans.queue.flatMap { span in
                text.withUnsafeBytes { span.json(in: $0)?.arrayValue?.compactMap(\.stringValue) }
            })
    }

    /// An error's `code`.
    var code: String? { string(spans.code) }

    /// An error's `id`.
    var id: String? { string(spans.id) }

    /// The whole message as a tree.
    func tree() -> JSON? { try? JSON.parse(text) }

    private func string(_ span: JSONSpan?) -> String? {
        guard let span else { return nil }
        return text.withUnsafeBytes { span.stringValue(in: $0) }
    }

    private struct Spans {
        var type, seq, participant, connection, phase, queue, code, id: JSONSpan?

        mutating func note(_ member: JSONMemberSpan, in raw: UnsafeRawBufferPointer) {
            let key = member.key
            if key.equals("type", in: raw) { type = member.value }
            else if key.equals("seq", in: raw) { seq = member.value }
            else if key.equals("participant", in: raw) { participant = member.value }
            else if key.equals("connection", in: raw) { connection = member.value }
            else if key.equals("phase", in: raw) { phase = member.value }
            else if key.equals("queue", in: raw) { queue = member.value }
            else if key.equals("code", in: raw) { code = member.value }
            else if key.equals("id", in: raw) { id = member.value }
        }
    }
}
