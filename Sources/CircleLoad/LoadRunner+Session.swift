import CircleJSON
import CircleLoop
import CircleProtocol
import CircleRoom

/// The scripted behaviour of a session: facilitators walk the phases, members take part, every pair of
/// participants negotiates WebRTC through the relay, and some members drop and resume.
extension LoadRunner {
    /// The facilitator's steps, as fractions of the steady window (from the end of the ramp to the end).
    private enum Step: Int, CaseIterable {
        case pacing, startIntroRound, sharing, silence, close, startCloseRound, end

        var at: Double {
            switch self {
            case .pacing: 0
            case .startIntroRound: 0.02
            case .sharing: 0.30
            case .silence: 0.55
            case .close: 0.75
            case .startCloseRound: 0.77
            case .end: 0.92
            }
        }
    }

    /// The most a room's session runs behind the schedule (a fraction of the steady window; ~2 s in a 60 s run).
    static let maxRoomLag = 0.05

    /// Each room's lag behind the schedule (0…``maxRoomLag``) and tempo (0.8…1.2), spread evenly at random
    /// (reproducibly: seeded by the room count).
    static func roomSchedules(_ rooms: Int) -> (lag: [Double], tempo: [Double]) {
        var random = SplitMix(seed: UInt64(rooms) &* 0x9E37_79B9)
        let lag = (0..<rooms).map { _ in random.unit() * maxRoomLag }
        let tempo = (0..<rooms).map { _ in 0.8 + 0.4 * random.unit() }
        return (lag, tempo)
    }

    /// Windows (fractions of the steady window) in which members may pass: well inside the rounds, so that a pass
    /// never meets a phase change on the way.
    private static let passWindows: [ClosedRange<Double>] = [0.04...0.22, 0.79...0.90]

    private var span: Double { Double(endAt - steadyAt) }

    private func fraction(_ now: UInt64) -> Double { now < steadyAt ? -1 : Double(now - steadyAt) / span }

    // MARK: Joining

    func welcomed(_ message: JSON, by client: LoadClient, now: UInt64) {
        guard message["protocol"]?.intValue == WireProtocol.version else {
            metrics.error("protocol_mismatch")
            return
        }
        guard let seq = message["seq"]?.intValue else { metrics.error("bad_welcome"); return }
        let resumed = message["resumed"]?.boolValue ?? false
        if let epoch = message["epoch"]?.intValue, epoch > 0 { client.epoch = UInt64(epoch) }
        // Back after the server ended the connection: its peers' media never went through the server, so no offers.
        let afterOutage = endOutageResumed(client, replay: message["replay"] != nil, now: now)
        if let replay = message["replay"]?.arrayValue {
            for event in replay {
                guard let s = event["seq"]?.intValue, let type = event["type"]?.stringValue else { continue }
                if UInt64(s) != client.lastSeq + 1 { metrics.error("seq_gap") }
                client.lastSeq = UInt64(s)
                apply(type, EventFields(event), to: client, now: now, live: false)
            }
        } else if let snapshot = message["snapshot"]?.objectValue {
            load(snapshot, into: client)
            if client.isFacilitator && client.joinedOnce { resync(client.room, phase: client.phase) }
        }
        if client.lastSeq != UInt64(seq) && message["replay"] != nil { metrics.error("seq_gap") }
        client.lastSeq = UInt64(seq)
        client.welcomed = true
        connectedCount += 1
        if client.joinedOnce {
            if resumed { metrics.resumes += 1 } else { metrics.error("resume_lost_seat") }
        } else {
            client.joinedOnce = true
            metrics.joined += 1
            metrics.joinLatency.record(nanoseconds: now - client.connectStartedAt)
        }
        client.nextActionAt = now + activity(client, 1.0, 5.0)
        client.nextReactionAt = now + activity(client, 5, 25)
        client.nextMediaAt = now + activity(client, 2.5, 20)
        if client.churns && !client.churned {
            let at = 0.35 + 0.3 * Double(client.seat) / Double(configuration.members + 1) + roomLag[client.room]
            client.dropAt = steadyAt + UInt64(span * at)
            client.nextActionAt = min(client.nextActionAt, client.dropAt)
        }
        if configuration.scenario == .session && !afterOutage {
            for seat in client.connectedPeers.sorted() { offer(to: rooms[client.room][seat], by: client) }
        }
    }

    /// A room restored after a crash may lack its last changes (the store's crash bound: Docs/STORAGE.md). A
    /// facilitator back in a phase earlier than its script has reached does the steps again from that phase's next
    /// one, as a person would on seeing the room as it is; the steps taken again are counted.
    private func resync(_ room: Int, phase: String) {
        let next: Int
        switch phase {
        case "intro": next = Step.sharing.rawValue
        case "sharing": next = max(Step.silence.rawValue, min(facilitatorSteps[room], Step.close.rawValue))
        case "silence": next = Step.close.rawValue
        case "close": next = max(Step.startCloseRound.rawValue, min(facilitatorSteps[room], Step.end.rawValue))
        default: return
        }
        guard facilitatorSteps[room] > next else { return }
        metrics.stepsRedone += facilitatorSteps[room] - next
        facilitatorSteps[room] = next
    }

    private func load(_ snapshot: JSONObject, into client: LoadClient) {
        client.phase = snapshot["phase"]?.stringValue ?? "intro"
        client.floor = snapshot["speaker"]?.stringValue
        client.queue = snapshot["queue"]?.arrayValue?.compactMap(\.stringValue) ?? []
        client.connectedPeers = []
        for record in snapshot["participants"]?.arrayValue ?? [] {
            guard let p = record["participant"]?.stringValue, p != client.participant,
                  record["connection"]?.stringValue == "connected",
                  let peer = sender(in: client.room, ArraySlice(p.utf8))
            else { continue }
            client.connectedPeers.insert(peer.seat)
        }
    }

    // MARK: WebRTC through the relay

    /// The SDP of an offer or answer payload, built once per run.
    static func sdp(_ type: String, bytes: Int) -> [Probe.Member] {
        let sdp = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=type:\(type)\r\n"
        return [.string("sdp", sdp + Outgoing.filler(bytes))]
    }

    func offer(to peer: LoadClient, by client: LoadClient) {
        client.send(.probe(to: peer.participant, .offer, offerSDP))
    }

    func answer(_ peer: String, by client: LoadClient) {
        guard let p = sender(in: client.room, ArraySlice(peer.utf8)), client.connectedPeers.contains(p.seat) else {
            return
        }
        client.send(.probe(to: peer, .answer, answerSDP))
        sendCandidates(to: peer, by: client)
    }

    func sendCandidates(to peer: String, by client: LoadClient) {
        guard let p = sender(in: client.room, ArraySlice(peer.utf8)), client.connectedPeers.contains(p.seat) else {
            return
        }
        for n in 0..<configuration.iceCandidates {
            let candidate = "candidate:\(n + 1) 1 udp 2122260223 10.0.\(client.seat).\(n + 5) \(54400 + n) typ host"
                + " generation 0 ufrag EsAw network-id 1"
            client.send(.probe(to: peer, .candidate,
                               [.string("candidate", candidate), .string("sdpMid", "0"), .int("sdpMLineIndex", 0)]))
        }
    }

    // MARK: Members

    /// A random wait between `low` and `high` seconds at pace 1, shortened by the configured pace.
    func activity(_ client: LoadClient, _ low: Double, _ high: Double) -> UInt64 {
        client.random.nanoseconds(low / configuration.pace, high / configuration.pace)
    }

    /// One decision of an open, welcomed client (called by the sweep when its next action is due).
    func act(_ client: LoadClient, now: UInt64) {
        guard now < stopAt, !client.sessionEnded else { client.nextActionAt = .max; return }
        if configuration.scenario == .fanout {
            fanoutSend(client, now: now)
            client.nextActionAt = now
            return
        }
        client.nextActionAt = now + activity(client, 1.25, 3.75)
        if client.isFacilitator { return }
        if client.churns && !client.churned && client.dropAt > 0 {
            if now >= client.dropAt {
                client.churned = true
                client.rejoinAt = now + min(client.random.nanoseconds(0.5, 1.5), UInt64(span * 0.1))
                client.drop()
                return
            }
            client.nextActionAt = min(client.nextActionAt, client.dropAt)  // the drop keeps its time at any pace
        }
        if now >= client.nextReactionAt {
            client.nextReactionAt = now + activity(client, 10, 30)
            let kinds = ReactionKind.allCases
            let kind = kinds[Int(client.random.next() % UInt64(kinds.count))]
            client.send(.command(.reaction(kind), request: 0, kind: .reaction))
            return
        }
        guard client.stateRequest == 0 else { return }
        if now >= client.nextMediaAt {
            client.nextMediaAt = now + activity(client, 15, 40)
            if client.random.unit() < 0.5 && (client.mic || client.phase != "silence") {
                sendMedia(client, mic: !client.mic, camera: nil)
            } else {
                sendMedia(client, mic: nil, camera: !client.camera)
            }
            return
        }
        let me = client.participant
        if client.phase == "sharing" {
            let queued = client.queue.contains(me)
            if !queued && client.floor != me && client.random.unit() < 0.12 {
                sendState(client, .raiseHand)
            } else if queued && client.queue.count >= 3 && client.queue.first != me && client.random.unit() < 0.05 {
                sendState(client, .lowerHand)
            }
        } else if client.phase == "intro" || client.phase == "close" {
            let f = fraction(now) - roomLag[client.room]
            guard Self.passWindows.contains(where: { $0.contains(f) }) else { return }
            if let floor = client.floor, floor != me, !client.spokeThisRound, !client.passedThisRound,
               client.random.unit() < 0.05 {
                client.passedThisRound = true
                sendState(client, .pass)
            }
        }
    }

    func sendMedia(_ client: LoadClient, mic: Bool?, camera: Bool?) {
        if let mic { client.mic = mic }
        if let camera { client.camera = camera }
        let request = client.newRequest()
        client.stateRequest = request
        client.send(.command(.media(mic: mic, camera: camera), request: request, kind: .media))
    }

    private func sendState(_ client: LoadClient, _ command: Command) {
        let request = client.newRequest()
        client.stateRequest = request
        client.send(.command(command, request: request))
    }

    // MARK: Facilitators

    func stepFacilitator(_ room: Int, now: UInt64) {
        guard configuration.scenario == .session else { return }
        let f = rooms[room][0]
        guard f.isOpen, f.welcomed, !f.sessionEnded, now < stopAt else { return }
        let at = fraction(now) - roomLag[room]
        if facilitatorSteps[room] < Step.allCases.count, at >= Step.allCases[facilitatorSteps[room]].at {
            let step = Step.allCases[facilitatorSteps[room]]
            facilitatorSteps[room] += 1
            perform(step, by: f, tempo: roomTempo[room])
            return
        }
        // Sharing: keep the floor moving when it is free and someone connected waits.
        if f.phase == "sharing", f.floor == nil, f.stateRequest == 0,
           f.queue.contains(where: { p in
               sender(in: room, ArraySlice(p.utf8)).map { f.connectedPeers.contains($0.seat) } ?? false
           }) {
            sendState(f, .giveFloor(to: nil))
            f.giveFloorRequest = f.stateRequest
        }
    }

    private func perform(_ step: Step, by f: LoadClient, tempo: Double) {
        switch step {
        case .pacing:
            let turn = Int(min(60_000, max(1000, span / 1e6 * 0.03 * tempo)))
            sendState(f, .setPacing(Pacing(turnLength: .milliseconds(turn), nudgeBefore: .milliseconds(turn / 4),
                                           autoAdvance: true)))
        case .startIntroRound, .startCloseRound:
            sendState(f, .advanceRound)
        case .sharing:
            sendState(f, .setPhase(.sharing))
        case .silence:
            let silence = Int(min(3_600_000, max(1000, span / 1e6 * 0.08 * tempo)))
            sendState(f, .startSilence(.milliseconds(silence)))
        case .close:
            sendState(f, .setPhase(.close))
        case .end:
            sendState(f, .endSession)
        }
    }

    // MARK: Fanout

    /// Fanout: sends while the window allows (and, with a fixed rate, while the schedule says so).
    func fanoutSend(_ client: LoadClient, now: UInt64) {
        guard now >= steadyAt, now < stopAt, client.isOpen, client.welcomed, !client.sessionEnded else { return }
        let c = configuration
        var budget = c.fanoutWindow - client.outstanding.count
        if c.fanoutRate > 0 {
            // Each client keeps its own phase in the schedule, so that sends are spread, not synchronised.
            let phase = Double(client.index) * 0.618_033_988_75
            let slots = Double(now &- min(now, steadyAt)) / 1e9 * c.fanoutRate + (phase - phase.rounded(.down))
            let due = Int(slots) - Int(client.fanoutSent)
            budget = min(budget, due)
        }
        guard budget > 0 else { return }
        for _ in 0..<budget {
            client.fanoutSent += 1
            client.send(fanoutMessage(request: client.newRequest()))
        }
    }

    private func fanoutMessage(request: Int) -> Outgoing {
        .probe(to: nil, .answer, fanoutPadding, request: request, kind: .fanout)
    }

    /// The padding that makes a fanout message `fanoutPayloadBytes` long (for request ids of up to 6 digits).
    static func fanoutPadding(bytes: Int) -> [Probe.Member] {
        let base = Outgoing.probe(to: nil, .answer, [.string("p", "")], request: 100_000, kind: .fanout)
        return [.string("p", Outgoing.filler(bytes - base.encoded(now: 0).count))]
    }
}
