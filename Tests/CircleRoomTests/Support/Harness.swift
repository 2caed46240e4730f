@testable import CircleRoom

/// Drives a room with a manual clock and records what every connection received.
final class Harness {
    let room: Room
    private(set) var now: Instant
    private(set) var inbox: [ConnectionID: [Outbound]] = [:]
    private(set) var closes: [ConnectionID: (code: UInt16, reason: String)] = [:]
    private(set) var log: [RoomEffect] = []
    private(set) var ended = false
    private var nextConnection: UInt64 = 1
    private var connectionsBySub: [ParticipantID: ConnectionID] = [:]

    init(config: RoomConfig = RoomConfig(), start: Instant = .seconds(1000)) {
        now = start
        room = Room(id: "room-1", config: config, now: start)
    }

    // MARK: inputs

    /// Joins on a fresh connection; returns it.
    @discardableResult
    func join(_ sub: String, _ role: Role = .member, name: String? = nil, resumeFrom: UInt64? = nil) -> ConnectionID {
        let connection = ConnectionID(nextConnection)
        nextConnection += 1
        let outcome = room.join(
            connection: connection, identity: Identity(sub: sub, name: name ?? "Name of \(sub)", role: role),
            resumeFrom: resumeFrom, now: now)
        if outcome.isAccepted { connectionsBySub[sub] = connection }
        drain()
        return connection
    }

    func joinOutcome(_ sub: String, _ role: Role = .member, resumeFrom: UInt64? = nil) -> (ConnectionID, JoinOutcome) {
        let connection = ConnectionID(nextConnection)
        nextConnection += 1
        let outcome = room.join(
            connection: connection, identity: Identity(sub: sub, name: "Name of \(sub)", role: role),
            resumeFrom: resumeFrom, now: now)
        if outcome.isAccepted { connectionsBySub[sub] = connection }
        drain()
        return (connection, outcome)
    }

    /// The live connection of a participant, by sub.
    func connection(_ sub: String) -> ConnectionID {
        connectionsBySub[sub]!
    }

    /// Sends a command from a participant (by sub) with request id "r".
    func send(_ sub: String, _ command: Command, id: RequestID? = "r") {
        send(on: connection(sub), command, id: id)
    }

    func send(on connection: ConnectionID, _ command: Command, id: RequestID? = "r") {
        room.handle(connection: connection, requestID: id, command: command, now: now)
        drain()
    }

    func drop(_ sub: String) {
        room.disconnected(connection: connection(sub), now: now)
        drain()
    }

    /// Moves the clock forward without ticking.
    func wait(_ duration: Duration) {
        now = now + duration
    }

    /// Moves the clock forward and ticks.
    func advance(_ duration: Duration) {
        wait(duration)
        tick()
    }

    func tick() {
        room.tick(now: now)
        drain()
    }

    /// Ticks at every deadline until `until`, the way a service timer would.
    func run(until target: Instant) {
        while let deadline = room.nextDeadline, deadline <= target {
            if deadline > now { now = deadline }
            tick()
        }
        if target > now { now = target }
        tick()
    }

    private func drain() {
        for effect in room.effects {
            log.append(effect)
            switch effect {
            case .deliver(let message, let recipients):
                for recipient in recipients { inbox[recipient, default: []].append(message) }
            case .close(let connection, let code, let reason):
                closes[connection] = (code, reason)
            case .ended:
                ended = true
            }
        }
        room.effects.removeAll(keepingCapacity: true)
    }

    // MARK: reading

    func messages(_ sub: String) -> [Outbound] { inbox[connection(sub)] ?? [] }
    func messages(on connection: ConnectionID) -> [Outbound] { inbox[connection] ?? [] }

    func clear() { inbox.removeAll() }

    /// Sequenced events received on a connection.
    func events(on connection: ConnectionID) -> [SequencedEvent] {
        messages(on: connection).compactMap { if case .event(let e) = $0 { e } else { nil } }
    }

    func events(_ sub: String) -> [RoomEvent] { events(on: connection(sub)).map(\.event) }

    /// Error codes received on a connection.
    func errors(on connection: ConnectionID) -> [ErrorCode] {
        messages(on: connection).compactMap { if case .error(_, let code, _) = $0 { code } else { nil } }
    }

    func errors(_ sub: String) -> [ErrorCode] { errors(on: connection(sub)) }

    func acks(_ sub: String) -> Int {
        messages(sub).filter { if case .ack = $0 { true } else { false } }.count
    }

    /// The last message on a connection.
    func last(_ sub: String) -> Outbound? { messages(sub).last }

    func welcome(on connection: ConnectionID) -> Welcome? {
        for message in messages(on: connection).reversed() {
            if case .welcome(let w) = message { return w }
        }
        return nil
    }

    var snapshot: Snapshot { room.snapshot() }

    func view(_ sub: String) -> ParticipantView? {
        snapshot.participants.first { $0.id == sub }
    }

    func stats(_ sub: String) -> SpeakingStats? {
        room.speakingStats().first { $0.participant == sub }
    }
}

extension Harness {
    /// The usual cast: facilitator `f`, co-facilitator `c`, members `a` and `b`, observer `o`, in that join order.
    static func fullRoom() -> Harness {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("c", .cofacilitator)
        h.join("a")
        h.join("b")
        h.join("o", .observer)
        return h
    }
}
