import CircleAuth
import CircleHTTP
import CircleLoop
import CircleProtocol
import CircleServer
import CircleRoom
import CircleStore
import CircleWebhooks
import CircleWebSocket
import Glibc
import Logging

/// Serves `/rooms/{roomId}`: authenticates before the upgrade, routes each connection to its room on this loop,
/// carries out the room's effects (one encode per broadcast) and keeps each room's timer armed.
public final class RoomService: HTTPApplication, WebSocketEndpoint {
    let server: Server
    let configuration: RoomServiceConfiguration
    /// The rooms' metrics (rooms, participants, messages by type, errors by code, floods); nil keeps none.
    public var metrics: RoomMetrics?
    private let verifier: TokenVerifier
    var logger: Logger { server.logger }
    /// The open rooms by id.
    var rooms: [String: HostedRoom] = [:]
    /// The store's side of the rooms (RoomService+Store.swift); nil runs without a store.
    var storage: RoomStorage?
    /// Room ownership across nodes (RoomService+Cluster.swift); nil when this node is alone.
    var cluster: RoomCluster?
    /// Writes open sessions' attendance counts (RoomService+Sessions.swift); started with the first session.
    var attendanceSweep: LoopTimer?
    /// Open room connections by slot: a `ConnectionID` is `serial << 32 | slot`, so that a recipient (or the sender
    /// of a message, by its connection's tag) is found by indexing, not hashing.
    var slots: [RoomSlot] = []
    /// The effects buffer lent to whichever room is being called (see ``lendEffects(to:)``).
    private var spareEffects: [RoomEffect] = []
    private var freeSlots: [UInt32] = []
    private var nextSerial: UInt32 = 1
    private var connectionCount = 0
    private var endedRooms = EndedRooms()
    /// Refused joins are logged at most ``refusalLogBurst`` a second; the rest are counted into the next line.
    private var refusalLog = (second: Int64(0), logged: 0, suppressed: 0)
    private static let refusalLogBurst = 10
    /// Scratch buffer for encoding frames, reused across broadcasts.
    private var frame: [UInt8] = []
    /// Where sessions are numbered and attendance is kept; nil keeps numbers in memory and no records.
    public var records: GroupStore?
    /// Where session and attendance webhooks go; nil sends none.
    public var webhooks: WebhookSender?
    /// Who waits for a group's session to open, and session numbers when there is no store.
    var groups = GroupSessions()

    public init(server: Server, configuration: RoomServiceConfiguration) {
        self.server = server
        self.configuration = configuration
        self.verifier = TokenVerifier(secret: configuration.secret, leeway: configuration.tokenLeewaySeconds,
                                      maxLifetime: configuration.maxTokenLifetimeSeconds)
    }

    /// Rooms currently open on this service.
    public var roomCount: Int { rooms.count }

    var now: Instant { Instant(nanoseconds: EventLoop.hrtime) }

    // MARK: Routing and authentication (before the upgrade)

    public func route(_ head: HTTPRequestHead, connection: ServerConnection) -> RouteResult? {
        guard head.path.hasPrefix("/rooms/") else { return nil }
        let roomID = String(head.path.dropFirst("/rooms/".count))
        guard Room.isValidID(roomID) else {
            return .response(status: 404, headers: [], body: Array("Unknown room path\n".utf8))
        }
        guard head.method == "GET" else {
            return .response(status: 405, headers: [HTTPHeader(name: "Allow", value: "GET")],
                             body: Array("Method Not Allowed\n".utf8))
        }
        let token = head.queryItem("access_token") ?? head.bearerToken ?? Self.subprotocolToken(head)
        let claims: TokenClaims
        let wallClock = Int64(time(nil))
        switch verifier.verify(token ?? "", room: roomID, now: wallClock) {
        case .failure(let error):
            logRefusal(room: roomID, reason: error.reason, now: wallClock)
            return .response(status: 401, headers: [
                HTTPHeader(name: "WWW-Authenticate", value: "Bearer error=\"invalid_token\""),
                HTTPHeader(name: "Content-Type", value: "text/plain; charset=utf-8"),
            ], body: Array("\(error.reason)\n".utf8))
        case .success(let c):
            claims = c
        }
        if rooms[roomID] == nil && rooms.count >= configuration.maxRooms {
            logger.warning("room limit reached", metadata: ["limit": "\(configuration.maxRooms)"])
            return .response(status: 503, headers: [HTTPHeader(name: "Retry-After", value: "30")],
                             body: Array("Server room limit reached\n".utf8))
        }
        var resumeFrom: UInt64?
        if let since = head.queryItem("since") {
            guard let value = UInt64(since) else {
                return .response(status: 400, headers: [], body: Array("Bad since parameter\n".utf8))
            }
            resumeFrom = value
            if let storage, storage.needsFreshSnapshot(room: roomID, since: value, epoch: head.queryItem("epoch")) {
                resumeFrom = nil  // a resume across a lost stretch of events: a fresh snapshot, never a silent gap
            }
        }
        let identity = Identity(sub: claims.sub, name: claims.name, role: claims.role)
        let ended = rooms[roomID] == nil && endedRooms.refuses(roomID, issuedAt: claims.iat, now: wallClock)
        let join = RoomJoin(roomID: roomID, identity: identity, resumeFrom: resumeFrom, sessionEnded: ended)
        if cluster != nil && rooms[roomID] == nil {
            join.target = head.target
            join.forwardedHeaders = head.headers.filter {
                let name = $0.name.lowercased()
                return name == "sec-websocket-protocol" || name == "origin"
            }
            join.since = head.queryItem("since").flatMap { UInt64($0) }
            join.epoch = head.queryItem("epoch")
            join.relayed = head.header(RoomCluster.relayHeader) != nil
        }
        return .webSocket(endpoint: self, context: join, limits: nil, maxQueuedBytes: nil,
                          subprotocol: Self.subprotocol)
    }

    /// The subprotocol Circle's clients offer (with their token beside it), and the one the server answers with.
    public static let subprotocol = "circle"
    /// The prefix of the offered subprotocol that carries the token: `bearer.<JWT>` (a JWT's characters are all
    /// valid in a subprotocol token).
    static let subprotocolTokenPrefix = "bearer."

    /// The token offered as a `Sec-WebSocket-Protocol` value `bearer.<JWT>`, which keeps it out of URLs that
    /// browsers and proxies log. The server never echoes it: it answers with ``subprotocol``.
    static func subprotocolToken(_ head: HTTPRequestHead) -> String? {
        for value in head.headerValues("Sec-WebSocket-Protocol") {
            for item in value.split(separator: ",") {
                let offered = item.drop { $0 == " " || $0 == "\t" }.prefix { $0 != " " && $0 != "\t" }
                if offered.hasPrefix(subprotocolTokenPrefix) {
                    return String(offered.dropFirst(subprotocolTokenPrefix.count))
                }
            }
        }
        return nil
    }

    /// Logs a refused join, at most ``refusalLogBurst`` lines a second: a flood of bad tokens cannot fill the log.
    private func logRefusal(room: String, reason: String, now: Int64) {
        if refusalLog.second != now {
            if refusalLog.suppressed > 0 {
                logger.warning("join refusals not logged", metadata: ["count": "\(refusalLog.suppressed)"])
            }
            refusalLog = (now, 0, 0)
        }
        guard refusalLog.logged < Self.refusalLogBurst else {
            refusalLog.suppressed += 1
            metrics?.refusalsNotLogged.increment()
            return
        }
        refusalLog.logged += 1
        logger.info("join refused", metadata: ["room": "\(room)", "reason": "\(reason)"])
    }


    // MARK: WebSocket events

    public func webSocketDidOpen(_ connection: ServerConnection) {
        guard let join = connection.context as? RoomJoin else { return }
        connection.context = nil
        if join.sessionEnded {
            logger.info("join refused", metadata: ["room": "\(join.roomID)", "reason": "session ended"])
            send(.error(nil, .sessionEnded, message: ErrorCode.sessionEnded.defaultMessage), to: connection)
            connection.close(code: CloseCode.sessionEnded, reason: "session ended")
            return
        }
        if let cluster, rooms[join.roomID] == nil {
            return cluster.hold(connection, join)  // claims the room, or relays to its owner
        }
        enter(connection, join)
    }

    /// A join for a room this node holds (or opens).
    func enter(_ connection: ServerConnection, _ join: RoomJoin) {
        let opening = rooms[join.roomID] == nil
        if opening && !configuration.sessionOpeners.mayOpen(join.identity.role) {
            return wait(connection, join)
        }
        endedRooms.remove(join.roomID)
        let hosted = host(join.roomID)
        let t = now
        let id = attach(connection, to: hosted, now: t)
        metrics?.participants.record(connectionCount)
        lendEffects(to: hosted.room)
        let outcome = hosted.room.join(connection: id, identity: join.identity, resumeFrom: join.resumeFrom, now: t)
        logger.info("join", metadata: [
            "room": "\(join.roomID)", "participant": "\(join.identity.sub)", "conn": "\(connection.id)",
            "role": "\(join.identity.role.rawValue)", "outcome": "\(outcome)",
        ])
        if opening { admitWaiting(to: hosted, now: t) }
        // A room just opened takes its waiting members too, and is saved whole.
        carryOut(hosted, after: opening ? nil : .join(id, join.identity), at: t)
    }

    enum Admission { case allowed, refused, flooding }

    /// Takes one message or frame from the connection's allowance. A refusal is a strike; strikes within one flood
    /// window reaching ``RoomServiceConfiguration/floodCloseAfter`` mean the connection is flooding.
    func admit(_ entry: inout RoomSlot, now t: Instant) -> Admission {
        if entry.bucket.take(now: t, burst: configuration.messageBurst,
                               refill: .nanoseconds(1_000_000_000 / max(1, configuration.messagesPerSecond))) {
            return .allowed
        }
        let ms = ServerConnection.clock(t.nanoseconds / 1_000_000)
        let window = UInt64(configuration.floodWindowSeconds) * 1000
        if entry.strikes == 0 || UInt64(ms &- entry.floodWindowStart) >= window {
            entry.floodWindowStart = ms
            entry.strikes = 0
        }
        entry.strikes = entry.strikes == .max ? .max : entry.strikes + 1
        return Int(entry.strikes) >= min(configuration.floodCloseAfter, Int(UInt8.max)) ? .flooding : .refused
    }

    func closeFlooding(_ connection: ServerConnection, room: String) {
        logger.warning("flood closed", metadata: ["room": "\(room)", "conn": "\(connection.id)"])
        metrics?.floodCloses.increment()
        connection.close(code: WebSocketCloseCode.policyViolation, reason: "message rate exceeded")
    }

    /// A refused frame is a strike; the message it belongs to is answered when it is whole.
    public func webSocketDidReceiveFragment(_ connection: ServerConnection) {
        guard let slot = slot(of: connection) else { return }
        if admit(&slots[slot], now: now) == .flooding {
            closeFlooding(connection, room: hostedRoom(of: slots[slot])?.room.id ?? "(waiting)")
        }
    }

    public func webSocket(_ connection: ServerConnection, didReceiveText text: [UInt8]) {
        guard let slot = slot(of: connection) else {
            cluster?.received(text, from: connection)
            return
        }
        guard let hosted = hostedRoom(of: slots[slot]) else { return answerWaiting(slot, text) }
        let id = Self.id(slot, slots[slot])
        let t = now
        switch admit(&slots[slot], now: t) {
        case .allowed:
            break
        case .refused:
            // The promise of one reply per id holds over the limit too: the id is recovered without a full decode.
            send(.error(WireProtocol.requestID(in: text), .rateLimited, message: "too many messages; slow down"),
                 to: connection)
            return
        case .flooding:
            return closeFlooding(connection, room: hosted.room.id)
        }
        switch WireProtocol.decode(text) {
        case .failure(let failure):
            metrics?.receivedUnknown()
            logger.debug("bad message", metadata: ["conn": "\(connection.id)", "bytes": "\(text.count)"])
            send(.error(failure.id, failure.code, message: failure.message), to: connection)
        case .success(let request):
            lendEffects(to: hosted.room)
            hosted.room.handle(connection: id, requestID: request.id, command: request.command, now: t)
            carryOut(hosted, after: .command(id, request.command), at: t)
            if let metrics {
                metrics.received(request.command.wireName)
                metrics.eventLatency.recordNanoseconds(Int64(EventLoop.hrtime &- t.nanoseconds))
            }
        }
    }

    /// The protocol is JSON text: a binary message closes the connection with 1003 (RFC 6455 §7.4.1).
    public func webSocket(_ connection: ServerConnection, didReceiveBinary data: [UInt8]) {
        metrics?.receivedUnknown()
        logger.debug("binary message refused", metadata: ["conn": "\(connection.id)", "bytes": "\(data.count)"])
        connection.close(code: WebSocketCloseCode.unsupportedData, reason: "binary messages are not supported")
    }

    public func webSocketDidClose(_ connection: ServerConnection, reason: DisconnectReason) {
        guard let slot = slot(of: connection) else {
            cluster?.closed(connection)
            return
        }
        let id = Self.id(slot, slots[slot])
        let hosted = hostedRoom(of: slots[slot])
        if slots[slot].hosted == nil {
            // The last one waiting for a session that never opened: the room's lease goes (a cluster node).
            let group = cluster == nil ? nil : groups.waiting.first { $0.value.contains { $0.id == id } }?.key
            groups.stopWaiting(id)
            if let group, rooms[group] == nil, groups.waiting[group] == nil { cluster?.dropped(group) }
        }
        detach(slot)
        metrics?.participants.record(connectionCount)
        guard let hosted else { return }
        if let participant = hosted.room.participant(for: id) {
            logger.info("connection lost", metadata: [
                "room": "\(hosted.room.id)", "participant": "\(participant)", "conn": "\(connection.id)",
                "reason": "\(reason)",
            ])
        }
        lendEffects(to: hosted.room)
        let t = now
        hosted.room.disconnected(connection: id, now: t)
        carryOut(hosted, after: .disconnected(id), at: t)
    }

    public func serverWillShutDown() {
        // With a store every room's state is written first (clients get 1012 and resume against the next process);
        // without one, rooms are kept in memory only and clients get 1001. Open sessions' counts go with them.
        sweepAttendance(all: true)
        attendanceSweep?.close()
        attendanceSweep = nil
        storage?.shutDown(rooms.values)
        cluster?.shutDown(rooms.keys)  // after the final snapshots: the leases go, the next node takes over
        for hosted in rooms.values {
            hosted.timer?.close()
            hosted.isLive = false
        }
        rooms.removeAll()
        metrics?.rooms.record(0)
    }

    // MARK: Connections by slot

    private static var freeSlot: RoomSlot {
        RoomSlot(connection: nil, hosted: nil, bucket: RateBucket(burst: 0, now: Instant(nanoseconds: 0)), serial: 0)
    }

    /// Gives `connection` a slot (in `hosted`, or waiting for its session when nil), and the slot's id as its tag.
    func attach(_ connection: ServerConnection, to hosted: HostedRoom?, now t: Instant) -> ConnectionID {
        let slot: Int
        if let free = freeSlots.popLast() { slot = Int(free) } else {
            slot = slots.count
            slots.append(Self.freeSlot)
        }
        let serial = nextSerial
        nextSerial = nextSerial == .max ? 1 : nextSerial + 1
        slots[slot] = RoomSlot(connection: connection, hosted: hosted,
                                  bucket: RateBucket(burst: configuration.messageBurst, now: t), serial: serial)
        let id = Self.id(slot, slots[slot])
        connection.tag = id.rawValue
        connectionCount += 1
        return id
    }

    func detach(_ slot: Int) {
        slots[slot].connection?.tag = nil
        slots[slot] = Self.freeSlot
        freeSlots.append(UInt32(slot))
        connectionCount -= 1
    }

    /// The id of the connection in `slot`: its serial and the slot, so that a recipient is found by indexing.
    @inline(__always)
    static func id(_ slot: Int, _ entry: RoomSlot) -> ConnectionID {
        ConnectionID(UInt64(entry.serial) << 32 | UInt64(slot))
    }

    /// The slot of an open room connection, from its tag.
    @inline(__always)
    func slot(of connection: ServerConnection) -> Int? {
        guard let tag = connection.tag else { return nil }
        let slot = Int(truncatingIfNeeded: tag & 0xFFFF_FFFF)
        guard slot < slots.count, slots[slot].serial == UInt32(truncatingIfNeeded: tag >> 32),
              slots[slot].connection === connection else {
            return nil
        }
        return slot
    }

    @inline(__always)
    func connection(_ id: ConnectionID) -> ServerConnection? {
        let slot = Int(truncatingIfNeeded: id.rawValue & 0xFFFF_FFFF)
        guard slot < slots.count, slots[slot].serial == UInt32(truncatingIfNeeded: id.rawValue >> 32) else {
            return nil
        }
        return slots[slot].connection
    }

    /// The room a connection joined, while the service holds it; else whatever room now has its id (as a lookup by id
    /// would find).
    @inline(__always)
    private func hostedRoom(of entry: RoomSlot) -> HostedRoom? {
        guard let hosted = entry.hosted else { return nil }
        if hosted.isLive { return hosted }
        return rooms[hosted.room.id]
    }

    // MARK: Rooms and effects

    /// Lends `room` the service's effects buffer before a call into it, so that a room at rest holds no capacity
    /// for effects (every room would otherwise keep the most it ever produced at once).
    @inline(__always)
    func lendEffects(to room: Room) {
        if room.effects.capacity == 0 { swap(&room.effects, &spareEffects) }
    }

    /// After ``carryOut(_:)``: the emptied buffer goes back to the service.
    @inline(__always)
    private func takeBackEffects(from room: Room) {
        room.effects.removeAll(keepingCapacity: true)
        if spareEffects.capacity == 0 { swap(&room.effects, &spareEffects) } else { room.effects = [] }
    }

    private func host(_ roomID: String) -> HostedRoom {
        if let hosted = rooms[roomID] { return hosted }
        let hosted = HostedRoom(room: Room(id: roomID, config: configuration.room, now: now))
        storage?.opened(hosted)
        rooms[roomID] = hosted
        metrics?.rooms.record(rooms.count)
        logger.info("room opened", metadata: ["room": "\(roomID)", "rooms": "\(rooms.count)"])
        openSession(hosted)
        return hosted
    }

    /// A room restored from the store: hosted, its timer armed (a room with no seat, kept for its lock or removals,
    /// waits for its first join).
    func adopt(_ room: Room, stored: StoredMarks) {
        let hosted = HostedRoom(room: room)
        hosted.observedSeq = room.seq
        hosted.stored = stored
        rooms[room.id] = hosted
        resumeSession(hosted)
        metrics?.rooms.record(rooms.count)
        if room.participantCount > 0 { carryOut(hosted) }
    }

    /// The configuration new rooms get.
    var roomConfiguration: RoomConfig { configuration.room }

    /// Carries out the room's effects in order (unless the store holds them until a safety write commits), then
    /// re-arms its timer or drops it. `input` is what the room just took at `t`, for the store's journal (nil:
    /// anything else).
    func carryOut(_ hosted: HostedRoom, after input: RoomInput? = nil, at t: Instant = Instant(nanoseconds: 0)) {
        let room = hosted.room
        defer { takeBackEffects(from: room) }
        if let cluster, !cluster.leases.holdsLease(group: room.id) {
            // The lease may have lapsed (a paused process): nothing of this input goes out; the room's state, this
            // input included, gets one last fenced write (`RoomCluster.lost`), refused if another node took the room.
            room.effects.removeAll()
            cluster.lost(room.id)
            return
        }
        if room.seq != hosted.observedSeq { observeEvents(of: hosted) }
        let ended: Bool
        if let storage, storage.holdsEffects(of: hosted, after: input, at: t) {
            ended = room.isEnded
        } else {
            ended = perform(room.effects, of: hosted)
        }
        if ended || room.participantCount == 0 {
            drop(hosted, ended: ended)
            return
        }
        rearm(hosted)
    }

    /// Carries out effects in order; true when one of them ended the room.
    func perform(_ effects: [RoomEffect], of hosted: HostedRoom) -> Bool {
        var ended = false
        for effect in effects {
            switch effect {
            case .deliver(let message, let recipients):
                if case .privateWord(let from, _) = message { hosted.attendance?.privateWordSent(from: from) }
                encodeFrame(message)
                metrics?.sent(message, recipients: recipients.count)
                frame.withUnsafeBytes { frame in
                    for id in recipients { connection(id)?.send(encodedFrame: frame) }
                }
            case .close(let id, let code, let reason):
                connection(id)?.close(code: code, reason: reason)
            case .ended:
                ended = true
            }
        }
        return ended
    }

    private func rearm(_ hosted: HostedRoom) {
        let room = hosted.room
        if let deadline = room.nextDeadline {
            let t = now
            let wait = deadline > t ? (deadline.nanoseconds - t.nanoseconds + 999_999) / 1_000_000 : 0
            let timer = hosted.timer ?? LoopTimer(loop: server.loop)
            hosted.timer = timer
            timer.start(afterMilliseconds: wait) { [unowned self, unowned hosted] in
                self.lendEffects(to: hosted.room)
                let t = self.now
                hosted.room.tick(now: t)
                self.carryOut(hosted, after: .tick, at: t)
            }
        } else {
            hosted.timer?.stop()
        }
    }

    private func drop(_ hosted: HostedRoom, ended: Bool) {
        storage?.dropped(hosted)
        cluster?.dropped(hosted.room.id)
        closeSession(hosted)
        hosted.timer?.close()
        hosted.isLive = false
        if rooms[hosted.room.id] === hosted { rooms[hosted.room.id] = nil }
        if ended {
            endedRooms.add(hosted.room.id, at: Int64(time(nil)),
                           for: configuration.maxTokenLifetimeSeconds + configuration.tokenLeewaySeconds,
                           cap: configuration.maxEndedRooms)
        }
        metrics?.rooms.record(rooms.count)
        logger.info(ended ? "session ended" : "room closed, empty",
                    metadata: ["room": "\(hosted.room.id)", "rooms": "\(rooms.count)"])
    }

    func send(_ message: Outbound, to connection: ServerConnection) {
        encodeFrame(message)
        metrics?.sent(message, recipients: 1)
        connection.send(encodedFrame: frame)
    }

    /// Encodes one message as a complete text frame into the scratch buffer (once per broadcast).
    private func encodeFrame(_ message: Outbound) {
        let payload = WireProtocol.encode(message)
        frame.removeAll(keepingCapacity: true)
        WebSocketFrame.encode(opcode: .text, payload: payload, into: &frame)
    }
}
