import CircleJSON
import CircleLoop
import CircleProtocol
import CircleRoom
import CircleServer
import CircleStore
import CircleWebhooks

/// Groups between sessions: who is waiting for a facilitator, and session numbers when no store keeps them.
struct GroupSessions {
    /// Connections waiting for their group's session to open, in arrival order, with what routing learned.
    private(set) var waiting: [String: [(id: ConnectionID, join: RoomJoin)]] = [:]
    /// The last session number per group, when there is no store (they start again with the process).
    private var lastNumber: [String: Int] = [:]

    mutating func wait(_ id: ConnectionID, _ join: RoomJoin) { waiting[join.roomID, default: []].append((id, join)) }

    mutating func stopWaiting(_ id: ConnectionID) {
        for (group, list) in waiting where list.contains(where: { $0.id == id }) {
            let rest = list.filter { $0.id != id }
            waiting[group] = rest.isEmpty ? nil : rest
            return
        }
    }

    mutating func takeWaiting(for group: String) -> [(id: ConnectionID, join: RoomJoin)] {
        waiting.removeValue(forKey: group) ?? []
    }

    mutating func nextNumber(for group: String) -> Int {
        let n = (lastNumber[group] ?? 0) + 1
        lastNumber[group] = n
        return n
    }
}

extension RoomService {
    /// Wall-clock milliseconds since the Unix epoch, for records and webhooks.
    static var wallMilliseconds: Int64 { EventLoop.wallNanoseconds / 1_000_000 }

    // MARK: Waiting for the session to open

    /// Someone who may not open the session arrived before it opened: they wait, told so calmly, with no room.
    func wait(_ connection: ServerConnection, _ join: RoomJoin) {
        let waitingNow = groups.waiting[join.roomID]?.count ?? 0
        guard waitingNow < configuration.room.maxParticipants else {
            send(.error(nil, .roomFull, message: ErrorCode.roomFull.defaultMessage), to: connection)
            connection.close(code: CloseCode.roomFull, reason: "room full")
            return
        }
        let id = attach(connection, to: nil, now: now)
        groups.wait(id, join)
        logger.info("join waiting", metadata: [
            "room": "\(join.roomID)", "participant": "\(join.identity.sub)", "conn": "\(connection.id)",
            "role": "\(join.identity.role.rawValue)",
        ])
        send(.waitingForFacilitator(participant: join.identity.sub, role: join.identity.role), to: connection)
    }

    /// A message from someone still waiting: answered with `session_not_open` (rate-limited like any other).
    func answerWaiting(_ slot: Int, _ text: [UInt8]) {
        guard let connection = slots[slot].connection else { return }
        switch admit(&slots[slot], now: now) {
        case .allowed:
            send(.error(WireProtocol.requestID(in: text), .sessionNotOpen,
                        message: ErrorCode.sessionNotOpen.defaultMessage), to: connection)
        case .refused:
            send(.error(WireProtocol.requestID(in: text), .rateLimited, message: "too many messages; slow down"),
                 to: connection)
        case .flooding:
            closeFlooding(connection, room: "(waiting)")
        }
    }

    /// The session has just opened: everyone who was waiting joins it, in the order they came.
    func admitWaiting(to hosted: HostedRoom, now t: Instant) {
        for (id, join) in groups.takeWaiting(for: hosted.room.id) {
            let slot = Int(truncatingIfNeeded: id.rawValue & 0xFFFF_FFFF)
            guard connection(id) != nil else { continue }
            slots[slot].hosted = hosted
            let outcome = hosted.room.join(connection: id, identity: join.identity, resumeFrom: nil, now: t)
            logger.info("join", metadata: [
                "room": "\(join.roomID)", "participant": "\(join.identity.sub)", "conn": "\(id.rawValue)",
                "role": "\(join.identity.role.rawValue)", "outcome": "\(outcome)", "waited": "true",
            ])
        }
    }

    // MARK: Session records

    /// A session opens with its room: it gets its number (from the store, else counted here).
    func openSession(_ hosted: HostedRoom) {
        let group = hosted.room.id
        if records != nil || webhooks != nil { hosted.attendance = SessionAttendance(group: group) }
        startAttendanceSweep()
        let openedAt = Self.wallMilliseconds
        guard let records else {
            sessionOpened(hosted, number: groups.nextNumber(for: group), at: openedAt)
            return
        }
        // The room is held until the number comes: a session that ended before it did still gets closed.
        records.openSession(group: group, openedAt: openedAt) { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(let number):
                self.sessionOpened(hosted, number: number, at: openedAt)
            case .failure(let error):
                self.logger.error("session not recorded", metadata: ["room": "\(group)", "error": "\(error)"])
            }
        }
    }

    /// A room restored after a restart goes on with its group's open session: its number and its attendance so
    /// far, read back from the store.
    func resumeSession(_ hosted: HostedRoom) {
        guard let records else { return }
        startAttendanceSweep()
        let group = hosted.room.id
        let attendance = SessionAttendance(group: group)
        hosted.attendance = attendance
        attendance.seat(hosted.room.snapshot().participants, at: Self.wallMilliseconds)
        records.sessions(group: group) { [weak self] result in
            guard let self, case .success(let sessions) = result, let open = sessions.last, open.closedAt == nil
            else { return }
            records.attendance(group: group, sub: nil) { result in
                guard case .success(let rows) = result else { return }
                attendance.resume(session: open.number, openedAt: open.openedAt,
                                  rows: rows.filter { $0.session == open.number })
                self.logger.info("session resumed", metadata: ["room": "\(group)", "session": "\(open.number)"])
            }
        }
    }

    private func sessionOpened(_ hosted: HostedRoom, number: Int, at openedAt: Int64) {
        hosted.attendance?.session = number
        logger.info("session opened", metadata: ["room": "\(hosted.room.id)", "session": "\(number)"])
        webhooks?.send(WebhookEvent(.sessionOpened, group: hosted.room.id, session: number,
                                    atUnixMilliseconds: openedAt))
        writeAttendance(hosted, counts: true)
        records?.flush()  // the rows kept until the number came: no change of the room may follow soon
        if !hosted.isLive { finishSession(hosted, at: hosted.attendance?.closedAt ?? Self.wallMilliseconds) }
    }

    /// Attendance and webhooks from the room's events since the last look. Without a store or webhooks nothing
    /// keeps attendance, and a room holds none.
    func observeEvents(of hosted: HostedRoom) {
        guard let attendance = hosted.attendance else {
            hosted.observedSeq = hosted.room.seq
            return
        }
        let at = Self.wallMilliseconds
        // The events are read from the broadcasts among the room's effects, in order; the log is read only for those
        // that went to no one (a room with nobody connected) and after them.
        let room = hosted.room
        var next = hosted.observedSeq &+ 1
        hosted.observedSeq = room.seq
        for effect in room.effects {
            guard case .deliver(.event(let sequenced), _) = effect, sequenced.seq == next else { continue }
            observe(sequenced, of: hosted, attendance: attendance, at: at)
            next &+= 1
        }
        if next <= room.seq {
            for sequenced in room.events(after: next &- 1) ?? [] {
                observe(sequenced, of: hosted, attendance: attendance, at: at)
            }
        }
        writeAttendance(hosted)
    }

    /// One event for attendance and webhooks.
    private func observe(_ sequenced: SequencedEvent, of hosted: HostedRoom, attendance: SessionAttendance,
                         at: Int64) {
        attendance.observe(sequenced.event, at: at)
        guard let webhooks, let session = attendance.session else { return }
        switch sequenced.event {
        case .participantJoined(let view):
            webhooks.send(WebhookEvent(.participantJoined, group: hosted.room.id, session: session,
                                       atUnixMilliseconds: at) { w in
                w.key("participant"); w.string(view.id)
                w.key("role"); w.string(view.role.rawValue)
            })
        case .participantLeft(let id, let reason):
            webhooks.send(WebhookEvent(.participantLeft, group: hosted.room.id, session: session,
                                       atUnixMilliseconds: at) { w in
                w.key("participant"); w.string(id)
                w.key("reason"); w.string(reason.wireName)
            })
        default:
            break
        }
    }

    /// The session closes with its room (ended, or emptied): the last rows, its close, the `session_ended` webhook.
    func closeSession(_ hosted: HostedRoom) {
        observeEvents(of: hosted)
        let at = Self.wallMilliseconds
        hosted.attendance?.close(at: at)
        if hosted.attendance?.session != nil { finishSession(hosted, at: at) }
    }

    private func finishSession(_ hosted: HostedRoom, at closedAt: Int64) {
        guard let attendance = hosted.attendance, let number = attendance.session else { return }
        writeAttendance(hosted, counts: true)
        records?.closeSession(group: hosted.room.id, number: number, closedAt: closedAt, completion: nil)
        records?.flush()
        logger.info("session closed", metadata: ["room": "\(hosted.room.id)", "session": "\(number)"])
        guard let webhooks else { return }
        let rows = attendance.records(at: closedAt)
        webhooks.send(WebhookEvent(.sessionEnded, group: hosted.room.id, session: number,
                                   atUnixMilliseconds: closedAt) { w in
            w.key("attendance"); w.beginArray()
            for r in rows {
                w.beginObject()
                w.key("participant"); w.string(r.sub)
                w.key("role"); w.string(r.role)
                w.key("connected_ms"); w.int(Int(r.connectedMs))
                w.key("spoken_ms"); w.int(Int(r.spokenMs))
                w.key("turns"); w.int(r.turns)
                w.key("passes"); w.int(r.passes)
                w.key("hands_raised"); w.int(r.handsRaised)
                w.key("drops"); w.int(r.drops)
                w.endObject()
            }
            w.endArray()
        })
    }

    /// Queues the room's changed attendance rows: at once when someone came, left, dropped, came back or changed
    /// role; a change of counts alone (turns, time spoken, passes, hands raised, private words) waits for `counts`
    /// (``sweepAttendance()`` every ``attendanceSweepMilliseconds``, the session's close, a shutdown).
    func writeAttendance(_ hosted: HostedRoom, counts: Bool = false) {
        guard let records, let rows = hosted.attendance?.takeChanged(counts: counts, at: Self.wallMilliseconds),
              !rows.isEmpty else { return }
        for row in rows { records.putAttendance(row) }
        // The rows changed with the room's seq, so its snapshot is due within 100 ms: they leave in that batch
        // (the room state's crash bound), not in a transaction of their own. When the rooms are kept elsewhere
        // (Redis) or not at all, at once.
        if storage.map({ $0.store !== records }) ?? true { records.flush() }
    }

    /// How often each open session's counts and connected times reach the store: what a crash can lose of them.
    static let attendanceSweepMilliseconds: Int64 = 30_000

    /// Each open session whose rows were last all taken ``attendanceSweepMilliseconds`` ago (or every one, `all`)
    /// writes its changed rows and its connected ones. A timer runs it every second, so that rooms opened at
    /// different times are swept at different seconds.
    func sweepAttendance(all: Bool = false) {
        let due = Self.wallMilliseconds - Self.attendanceSweepMilliseconds
        for hosted in rooms.values {
            guard let attendance = hosted.attendance, all || attendance.sweptAt <= due else { continue }
            writeAttendance(hosted, counts: true)
        }
        records?.flush()
    }

    /// Starts the sweep the first time a session opens with records kept.
    func startAttendanceSweep() {
        guard records != nil, attendanceSweep == nil else { return }
        let timer = LoopTimer(loop: server.loop)
        attendanceSweep = timer
        timer.start(afterMilliseconds: 1_000, repeatMilliseconds: 1_000) { [unowned self] in
            self.sweepAttendance()
        }
    }
}
