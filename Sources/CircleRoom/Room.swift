/// One group session: a pure state machine. Feed it joins, commands, drops and ticks; read `effects`.
///
/// Every call takes the current monotonic instant and appends what the service must do to `effects`, in order.
/// The service carries the effects out and clears the buffer (`effects.removeAll(keepingCapacity: true)`).
/// A room lives on one thread; it is not `Sendable`.
///
/// Timers (grace ends, silence end, turn nudges, turn end) fire in `tick(now:)` when due (`deadline <= now`).
/// Every other call first catches up on timers that are strictly overdue (`deadline < now`), so an input that
/// arrives exactly at a deadline is handled before that deadline fires: a reconnect at the very instant its grace
/// ends still resumes the seat.
public final class Room {
    /// The room's state as a plain value.
    public internal(set) var state: RoomState
    /// What the service must do, in order. The service drains it after each call.
    public var effects: [RoomEffect] = []

    /// Connected connections, cached so a broadcast hands out the same array without allocating.
    /// (Who owns each is the seat whose `connection` it is: `state.participants.index(of:)`.)
    var recipients: [ConnectionID] = []
    /// Reused for "everyone but the sender": once the service has drained the effects that held it, it is unique
    /// again and refilled in place, so relaying to the room allocates nothing.
    var othersScratch: [ConnectionID] = []

    /// A new room in the intro phase.
    public init(id: String, config: RoomConfig = RoomConfig(), now: Instant) {
        state = RoomState(id: id, config: config, now: now)
    }

    // MARK: - Reading

    /// The room id.
    public var id: String { state.id }
    /// The sequence number of the last event.
    public var seq: UInt64 { state.seq }
    /// The current phase.
    public var phase: Phase { state.phase }
    /// Whether the session has ended (the service should have dropped the room).
    public var isEnded: Bool { state.phase == .ended }
    /// Seats taken (connected plus reconnecting).
    public var participantCount: Int { state.participants.count }
    /// The live connections, in join order of their owners.
    public var connections: [ConnectionID] { recipients }

    /// The participant a connection belongs to, if it is live in this room.
    public func participant(for connection: ConnectionID) -> ParticipantID? {
        state.participants.index(of: connection).map { state.participants[at: $0].id }
    }

    /// The earliest instant at which `tick(now:)` has something to do, if any.
    public var nextDeadline: Instant? {
        earliestTimer()?.at
    }

    // MARK: - Inputs

    /// A verified identity asks for a seat on `connection`. `resumeFrom` is the last sequence number the client saw.
    ///
    /// - A removed participant is refused (`removed`); a new participant is refused when the room is locked or full.
    /// - The same participant on a new connection takes back their seat: the older connection is closed with
    ///   `CloseCode.replaced`, a reconnecting seat becomes connected again. Role, mute, queue and round places stay.
    /// - The welcome carries a snapshot, or, on a resume whose missed events are all still logged, those events.
    @discardableResult
    public func join(connection: ConnectionID, identity: Identity, resumeFrom: UInt64? = nil, now: Instant)
        -> JoinOutcome
    {
        runTimers(until: now, inclusive: false)
        if state.phase == .ended {
            return refuse(connection, .sessionEnded, closeCode: CloseCode.sessionEnded)
        }
        if state.participants.index(of: connection) != nil {
            deliver(.error(nil, .conflict, message: "connection already joined"), to: connection)
            return .refused(.conflict)
        }
        if state.removed.contains(identity.sub) {
            return refuse(connection, .removed, closeCode: CloseCode.removed)
        }
        if let seat = state.participants[identity.sub] {
            let previous = seat.connection
            if let previous {
                detach(previous)
                effects.append(.close(previous, code: CloseCode.replaced, reason: "replaced by a new connection"))
            }
            attach(connection, to: identity.sub)
            welcome(identity.sub, on: connection, resumed: true, resumeFrom: resumeFrom)
            if previous == nil {
                state.participants[identity.sub]?.view.connection = .connected
                emit(.connectionChanged(identity.sub, .connected))
            }
            return .resumed
        }
        if state.locked {
            return refuse(connection, .roomLocked, closeCode: CloseCode.roomLocked)
        }
        if state.participants.count >= state.config.maxParticipants {
            return refuse(connection, .roomFull, closeCode: CloseCode.roomFull)
        }
        welcome(identity.sub, role: identity.role, on: connection)
        seat(identity, on: connection)
        return .joined
    }

    /// A request from a live connection. Answers with `ack` (when `requestID` is given) after the events it caused,
    /// or with `error` and no change at all.
    public func handle(connection: ConnectionID, requestID: RequestID? = nil, command: Command, now: Instant) {
        runTimers(until: now, inclusive: false)
        guard state.phase != .ended else {
            return fail(connection, requestID, CommandError(.sessionEnded))
        }
        guard let position = state.participants.index(of: connection) else {
            return fail(connection, requestID, CommandError(.invalid, "not joined"))
        }
        let (sender, role) = (state.participants[at: position].id, state.participants[at: position].role)
        guard command.permission.allows(role) else {
            return fail(connection, requestID, CommandError(.forbidden))
        }
        let completion: Completion
        do {
            completion = try perform(command, by: sender, role: role, on: connection)
        } catch {
            return fail(connection, requestID, error)
        }
        if let requestID {
            deliver(.ack(requestID), to: connection)
        }
        switch completion {
        case .done:
            break
        case .close(let target, let code, let reason):
            effects.append(.close(target, code: code, reason: reason))
        case .endRoom:
            closeAllAndEnd()
        }
    }

    /// The connection dropped (socket closed, keepalive failed). Not a leave: the seat is kept for the grace period.
    /// Unknown or replaced connections are ignored.
    public func disconnected(connection: ConnectionID, now: Instant) {
        runTimers(until: now, inclusive: false)
        guard state.phase != .ended, let position = state.participants.index(of: connection) else { return }
        let id = state.participants[at: position].id
        detach(connection)
        if state.config.grace <= .zero {
            removeParticipant(id, reason: .timedOut)
            return
        }
        state.participants[id]?.view.connection = .reconnecting
        let graceEnds = state.now + state.config.grace
        state.participants[id]?.graceEnds = graceEnds
        emit(.connectionChanged(id, .reconnecting))
    }

    /// Fires every timer due at or before `now`, in deadline order.
    public func tick(now: Instant) {
        runTimers(until: now, inclusive: true)
    }

    // MARK: - Effects

    /// Assigns the next sequence number, logs the event, and broadcasts it to everyone connected.
    func emit(_ event: RoomEvent) {
        state.seq += 1
        let sequenced = SequencedEvent(seq: state.seq, event: event)
        state.log.append(sequenced)
        if !recipients.isEmpty {
            effects.append(.deliver(.event(sequenced), to: recipients))
        }
    }

    func deliver(_ message: Outbound, to connection: ConnectionID) {
        effects.append(.deliver(message, to: [connection]))
    }

    func deliver(_ message: Outbound, to connections: [ConnectionID]) {
        if !connections.isEmpty {
            effects.append(.deliver(message, to: connections))
        }
    }

    private func fail(_ connection: ConnectionID, _ requestID: RequestID?, _ error: CommandError) {
        deliver(.error(requestID, error.code, message: error.message), to: connection)
    }

    private func refuse(_ connection: ConnectionID, _ code: ErrorCode, closeCode: UInt16) -> JoinOutcome {
        deliver(.error(nil, code, message: code.defaultMessage), to: connection)
        effects.append(.close(connection, code: closeCode, reason: code.defaultMessage))
        return .refused(code)
    }

    /// Closes every live connection normally and tells the service to drop the room.
    func closeAllAndEnd() {
        for connection in recipients {
            effects.append(.close(connection, code: CloseCode.normal, reason: "session ended"))
        }
        for position in 0..<state.participants.count {
            state.participants[at: position].connection = nil
        }
        recipients.removeAll()
        effects.append(.ended)
    }

    // MARK: - Connections

    func attach(_ connection: ConnectionID, to id: ParticipantID) {
        guard let position = state.participants.index(of: id) else { return }
        state.participants[at: position].connection = connection
        state.participants[at: position].graceEnds = nil
        recipients.appendCompactly(connection)
    }

    func detach(_ connection: ConnectionID) {
        guard let position = state.participants.index(of: connection) else { return }
        state.participants[at: position].connection = nil
        if let index = recipients.firstIndex(of: connection) {
            recipients.remove(at: index)
        }
    }

    /// Live connections of facilitators and co-facilitators, in join order.
    func facilitatorConnections(excluding excluded: ParticipantID? = nil) -> [ConnectionID] {
        var result: [ConnectionID] = []
        for seat in state.participants.inJoinOrder where seat.id != excluded {
            if seat.role.canFacilitate, let connection = seat.connection {
                result.append(connection)
            }
        }
        return result
    }

    func isConnected(_ id: ParticipantID) -> Bool {
        state.participants.connection(of: id) != nil
    }
}

/// What to do after a successful command's ack.
enum Completion {
    case done
    case close(ConnectionID, code: UInt16, reason: String)
    case endRoom
}
