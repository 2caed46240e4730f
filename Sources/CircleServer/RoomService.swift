import CircleAuth
import CircleHTTP
import CircleLoop
import CircleProtocol
import CircleRoom
import CircleWebSocket
import Glibc
import Logging

/// What the room service can be told.
public struct RoomServiceConfiguration: Sendable {
    /// The HS256 secret tokens are signed with.
    public var secret: [UInt8]
    /// Rules and limits of each room (participants, grace, log size, signal cap, reactions, pacing).
    public var room = RoomConfig()
    /// Rooms one server holds at most; a join that would open one more is answered 503 before the upgrade.
    public var maxRooms = 10_000
    /// Messages per second a connection may send, sustained…
    public var messagesPerSecond = 20
    /// …and in a burst. Beyond it each message gets `rate_limited`.
    public var messageBurst = 40
    /// A connection that keeps sending this many messages past its limit is closed with 1008 (at most 255).
    public var floodCloseAfter = 100
    /// Seconds of clock skew allowed on `exp` and `nbf`.
    public var tokenLeewaySeconds: Int64 = 0

    public init(secret: [UInt8]) { self.secret = secret }
}

/// What routing learned about a WebSocket on `/rooms/{id}`, held from the upgrade until it opens (the same call).
final class RoomJoin {
    let roomID: String
    let identity: Identity
    let resumeFrom: UInt64?

    init(roomID: String, identity: Identity, resumeFrom: UInt64?) {
        self.roomID = roomID
        self.identity = identity
        self.resumeFrom = resumeFrom
    }
}

/// What an open room connection keeps while it lives (inline in its ``ServerConnection``): its number in its room
/// and the room, so that a message finds both without a lookup, and its rate limit. Kept small, one per joined
/// participant: the room id and the identity live in the room.
struct RoomSession {
    let hosted: HostedRoom
    let connectionID: ConnectionID
    var bucket: TokenBucket
    /// Messages refused in a row by the rate limit (saturating; one byte, as one of these exists per participant).
    var strikes: UInt8 = 0
}

/// A room on this loop, with the timer armed at its next deadline.
final class HostedRoom {
    let room: Room
    /// Made the first time the room has a deadline (a turn's end, a silence, a grace period): a room that never has
    /// one, as a quiet group waiting in its intro may not, holds no timer.
    var timer: LoopTimer?
    /// Whether the service still holds this room (`rooms[room.id] === self`); false once it is dropped.
    var isLive = true
    init(room: Room) {
        self.room = room
    }
}

/// Serves `/rooms/{roomId}`: authenticates before the upgrade, routes each connection to its room on this loop,
/// carries out the room's effects (one encode per broadcast) and keeps each room's timer armed.
public final class RoomService: HTTPApplication, WebSocketEndpoint {
    private let server: Server
    private let configuration: RoomServiceConfiguration
    private let verifier: TokenVerifier
    private var logger: Logger { server.logger }
    private var metrics: ServerMetrics? { server.metrics }
    private var rooms: [String: HostedRoom] = [:]
    /// Open room connections by slot: a `ConnectionID` is `serial << 32 | slot`, so that a recipient is found by
    /// indexing, not hashing. The serial (one per open) makes every id unique even when a slot is reused.
    private var slots: [Slot] = []
    /// The effects buffer lent to whichever room is being called (see ``lendEffects(to:)``).
    private var spareEffects: [RoomEffect] = []
    private var freeSlots: [UInt32] = []
    private var nextSerial: UInt64 = 1
    private var connectionCount = 0
    private struct Slot {
        var id: ConnectionID
        var connection: ServerConnection?
    }
    /// Scratch buffer for encoding frames, reused across broadcasts.
    private var frame: [UInt8] = []

    public init(server: Server, configuration: RoomServiceConfiguration) {
        self.server = server
        self.configuration = configuration
        self.verifier = TokenVerifier(secret: configuration.secret, leeway: configuration.tokenLeewaySeconds)
    }

    /// Rooms currently open on this service.
    public var roomCount: Int { rooms.count }

    /// What a room holds between calls (tests): the capacity of its effects buffer (0: none held) and whether it
    /// has a timer.
    func restingState(of roomID: String) -> (effectsCapacity: Int, hasTimer: Bool)? {
        rooms[roomID].map { ($0.room.effects.capacity, $0.timer != nil) }
    }

    private var now: Instant { Instant(nanoseconds: EventLoop.hrtime) }

    // MARK: Routing and authentication (before the upgrade)

    public func route(_ head: HTTPRequestHead, connection: ServerConnection) -> RouteResult? {
        guard head.path.hasPrefix("/rooms/") else { return nil }
        let roomID = String(head.path.dropFirst("/rooms/".count))
        guard Self.isValidRoomID(roomID) else {
            return .response(status: 404, headers: [], body: Array("Unknown room path\n".utf8))
        }
        guard head.method == "GET" else {
            return .response(status: 405, headers: [HTTPHeader(name: "Allow", value: "GET")],
                             body: Array("Method Not Allowed\n".utf8))
        }
        let token = head.queryItem("access_token") ?? Self.bearerToken(head)
        let claims: TokenClaims
        switch verifier.verify(token ?? "", room: roomID, now: Int64(time(nil))) {
        case .failure(let error):
            logger.info("join refused", metadata: ["room": "\(roomID)", "reason": "\(error.reason)"])
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
        }
        let identity = Identity(sub: claims.sub, name: claims.name, role: Role(rawValue: claims.role.rawValue)!)
        let join = RoomJoin(roomID: roomID, identity: identity, resumeFrom: resumeFrom)
        return .webSocket(endpoint: self, context: join, limits: nil, maxQueuedBytes: nil)
    }

    /// Room ids: 1–64 characters of `A-Z a-z 0-9 - _ .`.
    static func isValidRoomID(_ id: String) -> Bool {
        let utf8 = id.utf8
        guard (1...64).contains(utf8.count) else { return false }
        return utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F || c == 0x2E
        }
    }

    static func bearerToken(_ head: HTTPRequestHead) -> String? {
        guard let value = head.header("Authorization") else { return nil }
        let prefix = "bearer "
        guard value.count > prefix.count, value.lowercased().hasPrefix(prefix) else { return nil }
        // The parser has already trimmed trailing whitespace; RFC 6750 allows several spaces after the scheme.
        return String(value.dropFirst(prefix.count).drop { $0 == " " || $0 == "\t" })
    }

    // MARK: WebSocket events

    public func webSocketDidOpen(_ connection: ServerConnection) {
        guard let join = connection.context as? RoomJoin else { return }
        let hosted = host(join.roomID)
        let id = attach(connection)
        let t = now
        connection.context = nil
        connection.room = RoomSession(hosted: hosted, connectionID: id,
                                      bucket: TokenBucket(burst: configuration.messageBurst, now: t))
        metrics?.participants.record(connectionCount)
        lendEffects(to: hosted.room)
        let outcome = hosted.room.join(connection: id, identity: join.identity, resumeFrom: join.resumeFrom, now: t)
        logger.info("join", metadata: [
            "room": "\(join.roomID)", "participant": "\(join.identity.sub)", "conn": "\(connection.id)",
            "role": "\(join.identity.role.rawValue)", "outcome": "\(outcome)",
        ])
        carryOut(hosted)
    }

    public func webSocket(_ connection: ServerConnection, didReceiveText text: [UInt8]) {
        guard var session = connection.room, let hosted = hostedRoom(of: session) else { return }
        let id = session.connectionID
        let t = now
        let allowed = session.bucket.take(
            now: t, burst: configuration.messageBurst,
            refill: .nanoseconds(1_000_000_000 / max(1, configuration.messagesPerSecond)))
        session.strikes = allowed ? 0 : session.strikes == .max ? .max : session.strikes + 1
        connection.room = session  // the session is read once and written back once per message
        guard allowed else {
            if Int(session.strikes) >= min(configuration.floodCloseAfter, Int(UInt8.max)) {
                logger.warning("flood closed", metadata: ["room": "\(hosted.room.id)", "conn": "\(connection.id)"])
                connection.close(code: WebSocketCloseCode.policyViolation, reason: "message rate exceeded")
            } else {
                send(.error(nil, .rateLimited, message: "too many messages; slow down"), to: connection)
            }
            return
        }
        switch WireProtocol.decode(text) {
        case .failure(let failure):
            metrics?.receivedUnknown()
            logger.debug("bad message", metadata: ["conn": "\(connection.id)", "bytes": "\(text.count)"])
            send(.error(failure.id, failure.code, message: failure.message), to: connection)
        case .success(let request):
            lendEffects(to: hosted.room)
            hosted.room.handle(connection: id, requestID: request.id, command: request.command, now: t)
            carryOut(hosted)
            if let metrics {
                metrics.received(request.command.wireName)
                metrics.eventLatency.recordNanoseconds(Int64(EventLoop.hrtime &- t.nanoseconds))
            }
        }
    }

    public func webSocket(_ connection: ServerConnection, didReceiveBinary data: [UInt8]) {
        metrics?.receivedUnknown()
        send(.error(nil, .invalid, message: "binary messages are not supported"), to: connection)
    }

    public func webSocketDidClose(_ connection: ServerConnection, reason: DisconnectReason) {
        guard let session = connection.room else { return }
        let id = session.connectionID
        detach(id)
        metrics?.participants.record(connectionCount)
        guard let hosted = hostedRoom(of: session) else { return }
        if let participant = hosted.room.participant(for: id) {
            logger.info("connection lost", metadata: [
                "room": "\(hosted.room.id)", "participant": "\(participant)", "conn": "\(connection.id)",
                "reason": "\(reason)",
            ])
        }
        lendEffects(to: hosted.room)
        hosted.room.disconnected(connection: id, now: now)
        carryOut(hosted)
    }

    public func serverWillShutDown() {
        // Rooms are kept in memory only; connections get 1001 from the server and clients resume elsewhere.
        for hosted in rooms.values {
            hosted.timer?.close()
            hosted.isLive = false
        }
        rooms.removeAll()
        metrics?.rooms.record(0)
    }

    // MARK: Connections by slot

    private func attach(_ connection: ServerConnection) -> ConnectionID {
        let slot: Int
        if let free = freeSlots.popLast() { slot = Int(free) } else {
            slot = slots.count
            slots.append(Slot(id: ConnectionID(0), connection: nil))
        }
        let id = ConnectionID(nextSerial << 32 | UInt64(slot))
        nextSerial += 1
        slots[slot] = Slot(id: id, connection: connection)
        connectionCount += 1
        return id
    }

    private func detach(_ id: ConnectionID) {
        let slot = Int(truncatingIfNeeded: id.rawValue & 0xFFFF_FFFF)
        guard slot < slots.count, slots[slot].id == id, slots[slot].connection != nil else { return }
        slots[slot] = Slot(id: ConnectionID(0), connection: nil)
        freeSlots.append(UInt32(slot))
        connectionCount -= 1
    }

    @inline(__always)
    private func connection(_ id: ConnectionID) -> ServerConnection? {
        let slot = Int(truncatingIfNeeded: id.rawValue & 0xFFFF_FFFF)
        guard slot < slots.count, slots[slot].id == id else { return nil }
        return slots[slot].connection
    }

    /// The room a session joined, while the service holds it; else whatever room now has its id (as a lookup by id
    /// would find).
    @inline(__always)
    private func hostedRoom(of session: RoomSession) -> HostedRoom? {
        let hosted = session.hosted
        if hosted.isLive { return hosted }
        return rooms[hosted.room.id]
    }

    // MARK: Rooms and effects

    /// Lends `room` the service's effects buffer before a call into it, so that a room at rest holds no capacity
    /// for effects (every room would otherwise keep the most it ever produced at once).
    @inline(__always)
    private func lendEffects(to room: Room) {
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
        rooms[roomID] = hosted
        metrics?.rooms.record(rooms.count)
        logger.info("room opened", metadata: ["room": "\(roomID)", "rooms": "\(rooms.count)"])
        return hosted
    }

    /// Carries out the room's effects in order, then re-arms its timer or drops it.
    private func carryOut(_ hosted: HostedRoom) {
        let room = hosted.room
        defer { takeBackEffects(from: room) }
        var ended = false
        for effect in room.effects {
            switch effect {
            case .deliver(let message, let recipients):
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
        if ended || room.participantCount == 0 {
            drop(hosted, ended: ended)
            return
        }
        if let deadline = room.nextDeadline {
            let t = now
            let wait = deadline > t ? (deadline.nanoseconds - t.nanoseconds + 999_999) / 1_000_000 : 0
            let timer = hosted.timer ?? LoopTimer(loop: server.loop)
            hosted.timer = timer
            timer.start(afterMilliseconds: wait) { [unowned self, unowned hosted] in
                self.lendEffects(to: hosted.room)
                hosted.room.tick(now: self.now)
                self.carryOut(hosted)
            }
        } else {
            hosted.timer?.stop()
        }
    }

    private func drop(_ hosted: HostedRoom, ended: Bool) {
        hosted.timer?.close()
        hosted.isLive = false
        if rooms[hosted.room.id] === hosted { rooms[hosted.room.id] = nil }
        metrics?.rooms.record(rooms.count)
        logger.info(ended ? "session ended" : "room closed, empty", metadata: ["room": "\(hosted.room.id)", "rooms": "\(rooms.count)"])
    }

    private func send(_ message: Outbound, to connection: ServerConnection) {
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
