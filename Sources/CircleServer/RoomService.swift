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
    /// A connection refused this many messages or frames by the rate limit within ``floodWindowSeconds`` is closed
    /// with 1008 (at most 255).
    public var floodCloseAfter = 100
    /// The window over which refusals are counted towards ``floodCloseAfter``.
    public var floodWindowSeconds = 10
    /// Seconds of clock skew allowed on `exp` and `nbf`.
    public var tokenLeewaySeconds: Int64 = 0
    /// The longest a token may live: one whose `exp` is further ahead is refused. An ended session's room id is
    /// refused to tokens issued before its end for this long (plus the leeway), so that no link outlives it.
    public var maxTokenLifetimeSeconds: Int64 = 86_400
    /// Ended sessions remembered at most; past it the oldest is forgotten first.
    public var maxEndedRooms = 100_000

    public init(secret: [UInt8]) { self.secret = secret }
}

/// What routing learned about a WebSocket on `/rooms/{id}`, held from the upgrade until it opens (the same call).
final class RoomJoin {
    let roomID: String
    let identity: Identity
    let resumeFrom: UInt64?
    /// The room's session has ended and the token predates the end: refused with `session_ended` and 4004.
    let sessionEnded: Bool

    init(roomID: String, identity: Identity, resumeFrom: UInt64?, sessionEnded: Bool) {
        self.roomID = roomID
        self.identity = identity
        self.resumeFrom = resumeFrom
        self.sessionEnded = sessionEnded
    }
}

/// Room ids whose session ended, each until no token issued before its end can still be valid.
struct EndedRooms {
    /// Unix seconds: when the session ended, and until when it is remembered.
    private var ended: [String: (at: Int64, until: Int64)] = [:]
    /// Ids in the order they ended (the oldest from `head` on), for expiry and for the cap.
    private var order: [String] = []
    private var head = 0

    var count: Int { ended.count }

    /// Whether a token issued at `issuedAt` (nil: unknown) is refused for `roomID` at `now`.
    func refuses(_ roomID: String, issuedAt: Int64?, now: Int64) -> Bool {
        guard let entry = ended[roomID], now < entry.until else { return false }
        guard let issuedAt else { return true }
        return issuedAt <= entry.at
    }

    mutating func add(_ roomID: String, at now: Int64, for seconds: Int64, cap: Int) {
        expire(now: now)
        if ended.updateValue((now, now + seconds), forKey: roomID) == nil { order.append(roomID) }
        while ended.count > max(1, cap) { dropOldest() }
    }

    mutating func remove(_ roomID: String) { ended[roomID] = nil }

    private mutating func expire(now: Int64) {
        while head < order.count, let entry = ended[order[head]], now >= entry.until { dropOldest() }
        while head < order.count, ended[order[head]] == nil { head += 1 }  // reopened since
        if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }

    private mutating func dropOldest() {
        while head < order.count {
            let id = order[head]
            head += 1
            if ended.removeValue(forKey: id) != nil { return }
        }
    }
}

/// What an open room connection keeps while it lives (inline in its ``ServerConnection``): its number in its room
/// and the room, so that a message finds both without a lookup, and its rate limit. Kept small, one per joined
/// participant: the room id and the identity live in the room.
struct RoomSession {
    let hosted: HostedRoom
    let connectionID: ConnectionID
    var bucket: TokenBucket
    /// When the current flood window began (the loop's milliseconds, wrapping; see ``ServerConnection/clock(_:)``).
    var floodWindowStart: UInt32 = 0
    /// Messages and frames refused by the rate limit in the current window (saturating: one of these exists per
    /// participant).
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
    private var endedRooms = EndedRooms()
    /// Refused joins are logged at most ``refusalLogBurst`` a second; the rest are counted into the next line.
    private var refusalLog = (second: Int64(0), logged: 0, suppressed: 0)
    private static let refusalLogBurst = 10
    private struct Slot {
        var id: ConnectionID
        var connection: ServerConnection?
    }
    /// Scratch buffer for encoding frames, reused across broadcasts.
    private var frame: [UInt8] = []

    public init(server: Server, configuration: RoomServiceConfiguration) {
        self.server = server
        self.configuration = configuration
        self.verifier = TokenVerifier(secret: configuration.secret, leeway: configuration.tokenLeewaySeconds,
                                      maxLifetime: configuration.maxTokenLifetimeSeconds)
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
        let token = head.queryItem("access_token") ?? Self.bearerToken(head) ?? Self.subprotocolToken(head)
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
        }
        let identity = Identity(sub: claims.sub, name: claims.name, role: Role(rawValue: claims.role.rawValue)!)
        let ended = rooms[roomID] == nil && endedRooms.refuses(roomID, issuedAt: claims.iat, now: wallClock)
        let join = RoomJoin(roomID: roomID, identity: identity, resumeFrom: resumeFrom, sessionEnded: ended)
        return .webSocket(endpoint: self, context: join, limits: nil, maxQueuedBytes: nil, subprotocol: Self.subprotocol)
    }

    /// Room ids: 1–64 characters of `A-Z a-z 0-9 - _ .`.
    static func isValidRoomID(_ id: String) -> Bool {
        let utf8 = id.utf8
        guard (1...64).contains(utf8.count) else { return false }
        return utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F || c == 0x2E
        }
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
        connection.context = nil
        if join.sessionEnded {
            logger.info("join refused", metadata: ["room": "\(join.roomID)", "reason": "session ended"])
            send(.error(nil, .sessionEnded, message: ErrorCode.sessionEnded.defaultMessage), to: connection)
            connection.close(code: CloseCode.sessionEnded, reason: "session ended")
            return
        }
        endedRooms.remove(join.roomID)
        let hosted = host(join.roomID)
        let id = attach(connection)
        let t = now
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

    private enum Admission { case allowed, refused, flooding }

    /// Takes one message or frame from the session's allowance. A refusal is a strike; strikes within one flood
    /// window reaching ``RoomServiceConfiguration/floodCloseAfter`` mean the connection is flooding.
    private func admit(_ session: inout RoomSession, now t: Instant) -> Admission {
        if session.bucket.take(now: t, burst: configuration.messageBurst,
                               refill: .nanoseconds(1_000_000_000 / max(1, configuration.messagesPerSecond))) {
            return .allowed
        }
        let ms = ServerConnection.clock(t.nanoseconds / 1_000_000)
        let window = UInt64(configuration.floodWindowSeconds) * 1000
        if session.strikes == 0 || UInt64(ms &- session.floodWindowStart) >= window {
            session.floodWindowStart = ms
            session.strikes = 0
        }
        session.strikes = session.strikes == .max ? .max : session.strikes + 1
        return Int(session.strikes) >= min(configuration.floodCloseAfter, Int(UInt8.max)) ? .flooding : .refused
    }

    private func closeFlooding(_ connection: ServerConnection, room: String) {
        logger.warning("flood closed", metadata: ["room": "\(room)", "conn": "\(connection.id)"])
        metrics?.floodCloses.increment()
        connection.close(code: WebSocketCloseCode.policyViolation, reason: "message rate exceeded")
    }

    /// A refused frame is a strike; the message it belongs to is answered when it is whole.
    public func webSocketDidReceiveFragment(_ connection: ServerConnection) {
        guard var session = connection.room else { return }
        let admission = admit(&session, now: now)
        connection.room = session
        if admission == .flooding { closeFlooding(connection, room: session.hosted.room.id) }
    }

    public func webSocket(_ connection: ServerConnection, didReceiveText text: [UInt8]) {
        guard var session = connection.room, let hosted = hostedRoom(of: session) else { return }
        let id = session.connectionID
        let t = now
        let admission = admit(&session, now: t)
        connection.room = session  // the session is read once and written back once per message
        switch admission {
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
            carryOut(hosted)
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
        if ended {
            endedRooms.add(hosted.room.id, at: Int64(time(nil)),
                           for: configuration.maxTokenLifetimeSeconds + configuration.tokenLeewaySeconds,
                           cap: configuration.maxEndedRooms)
        }
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
