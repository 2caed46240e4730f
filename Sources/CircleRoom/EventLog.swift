/// A bounded ring of the most recent sequenced events, for resumes.
///
/// Kept compact, since every room holds one: events are logged in sequence order, one apart, so only the newest
/// sequence number is stored; participants are interned into a table of the ids (and, for joins, display names) the
/// log has seen, so an event refers to a participant by a small number; the lists of rounds, queues and mutes are
/// runs of numbers in one shared array, not an array of strings each; and the ring grows with the events it holds
/// (nothing reserved up front) up to `capacity`. The table only grows, by the participants the room has ever
/// named — as the room's stats do.
public struct EventLog: Hashable, Sendable, Codable {
    private(set) var storage: [LoggedEvent] = []
    private(set) var head = 0  // index of the oldest event once the ring is full
    private(set) var newestSeq: UInt64 = 0
    /// Every participant an event has named, in order of first mention (a logged event holds an index).
    private(set) var people: [LoggedPerson] = []
    /// The lists logged events refer to, end to end in sequence order. A run's `start` counts from the first list
    /// ever logged; `listsBase` is where `lists[0]` is in that count (runs of events that left the ring are cut off).
    private(set) var lists: [UInt32] = []
    private(set) var listsBase: UInt64 = 0
    /// How many events the log keeps.
    public let capacity: Int

    /// An empty log keeping at most `capacity` events (at least one).
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The number of events held.
    public var count: Int { storage.count }

    /// Appends an event, dropping the oldest when full. Events must arrive in sequence order; an event that does not
    /// follow the newest one directly starts the log afresh (what came before can no longer be replayed gap-free).
    public mutating func append(_ event: SequencedEvent) {
        if !storage.isEmpty, event.seq != newestSeq &+ 1 {
            storage.removeAll(keepingCapacity: true)
            head = 0
            listsBase += UInt64(lists.count)
            lists.removeAll(keepingCapacity: true)
        }
        newestSeq = event.seq
        let logged = compact(event.event)
        if storage.count < capacity {
            if storage.count == storage.capacity {
                // Grow by a quarter (at least 8), never past the capacity: a room's log costs what it holds.
                storage.reserveCapacity(min(capacity, storage.count + max(8, storage.count / 4)))
            }
            storage.append(logged)
        } else {
            let dropped = storage[head]
            storage[head] = logged
            head = (head + 1) % capacity
            if let run = dropped.run { release(upTo: run.start + UInt64(run.count)) }
        }
    }

    /// Lists before `end` belong to events no longer held: cut them off once they are half the array.
    private mutating func release(upTo end: UInt64) {
        let dead = Int(end - listsBase)
        guard dead > 0, dead * 2 >= lists.count else { return }
        lists.removeFirst(dead)
        listsBase = end
    }

    private mutating func store(_ values: [UInt32]) -> ListRun {
        let run = ListRun(start: listsBase + UInt64(lists.count), count: UInt32(values.count))
        for value in values { lists.appendCompactly(value, minimumGrowth: 16) }
        return run
    }

    private func list(_ run: ListRun) -> ArraySlice<UInt32> {
        let from = Int(run.start - listsBase)
        return lists[from..<from + Int(run.count)]
    }

    /// The oldest sequence number still held, if any.
    public var oldestSeq: UInt64? {
        storage.isEmpty ? nil : newestSeq - UInt64(storage.count) + 1
    }

    /// The events after `seq` up to `latest`, in order; `nil` if some of them are no longer held
    /// (or `seq` is in the future).
    public func events(after seq: UInt64, latest: UInt64) -> [SequencedEvent]? {
        guard seq <= latest else { return nil }
        if seq == latest { return [] }
        guard let oldest = oldestSeq, seq + 1 >= oldest, latest <= newestSeq else { return nil }
        let skip = Int(seq + 1 - oldest)
        let end = storage.count - Int(newestSeq - latest)
        var result: [SequencedEvent] = []
        result.reserveCapacity(end - skip)
        for offset in skip..<end {
            let event = expand(storage[(head + offset) % storage.count])
            result.append(SequencedEvent(seq: oldest + UInt64(offset), event: event))
        }
        return result
    }

    // MARK: - Compact form

    private mutating func intern(_ id: ParticipantID) -> UInt32 {
        if let index = people.firstIndex(where: { $0.id == id }) { return UInt32(index) }
        people.appendCompactly(LoggedPerson(id: id, name: nil))
        return UInt32(people.count - 1)
    }

    /// The entry for an id with this display name (a participant who comes back may carry another name).
    private mutating func intern(_ id: ParticipantID, name: String) -> UInt32 {
        if let index = people.firstIndex(where: { $0.id == id && ($0.name == nil || $0.name == name) }) {
            people[index].name = name
            return UInt32(index)
        }
        people.appendCompactly(LoggedPerson(id: id, name: name))
        return UInt32(people.count - 1)
    }

    private func id(_ index: UInt32) -> ParticipantID { people[Int(index)].id }

    private mutating func intern(_ list: [ParticipantID]) -> ListRun {
        store(list.map { intern($0) })
    }

    private mutating func compact(_ event: RoomEvent) -> LoggedEvent {
        switch event {
        case .participantJoined(let view):
            .joined(
                intern(view.id, name: view.name), view.role, view.connection, mic: view.mic, camera: view.camera,
                muted: view.muted)
        case .participantLeft(let id, let reason): .left(intern(id), reason)
        case .connectionChanged(let id, let state): .connection(intern(id), state)
        case .mediaChanged(let id, let mic, let camera): .media(intern(id), mic: mic, camera: camera)
        case .muteChanged(let ids, let muted): .mute(intern(ids), muted: muted)
        case .roleChanged(let id, let role): .role(intern(id), role)
        case .queueChanged(let ids, let policy): .queue(intern(ids), policy)
        case .floorGiven(let id, let turnLength): .floor(intern(id), turnLength: turnLength)
        case .turnEnded(let id, let reason): .turnEnded(intern(id), reason)
        case .roundChanged(let entries):
            .round(store(entries.map { LoggedEvent.pack(intern($0.participant), $0.status) }))
        case .phaseChanged, .pacingChanged, .lockChanged, .sessionEnded: .room(event)
        }
    }

    private func expand(_ event: LoggedEvent) -> RoomEvent {
        switch event {
        case .joined(let index, let role, let connection, let mic, let camera, let muted):
            .participantJoined(
                ParticipantView(
                    id: id(index), name: people[Int(index)].name ?? "", role: role, connection: connection, mic: mic,
                    camera: camera, muted: muted))
        case .left(let index, let reason): .participantLeft(id(index), reason: reason)
        case .connection(let index, let state): .connectionChanged(id(index), state)
        case .media(let index, let mic, let camera): .mediaChanged(id(index), mic: mic, camera: camera)
        case .mute(let run, let muted): .muteChanged(list(run).map { id($0) }, muted: muted)
        case .role(let index, let role): .roleChanged(id(index), role)
        case .queue(let run, let policy): .queueChanged(list(run).map { id($0) }, policy: policy)
        case .floor(let index, let turnLength): .floorGiven(id(index), turnLength: turnLength)
        case .turnEnded(let index, let reason): .turnEnded(id(index), reason: reason)
        case .round(let run):
            .roundChanged(list(run).map { RoundEntry(participant: id($0 >> 2), status: LoggedEvent.status($0)) })
        case .room(let event): event
        }
    }
}

/// Where a logged list is in the log's shared array of lists.
struct ListRun: Hashable, Sendable, Codable {
    var start: UInt64
    var count: UInt32
}

/// A participant as the log's events name them: the id, and the display name a join carried.
struct LoggedPerson: Hashable, Sendable, Codable {
    var id: ParticipantID
    var name: String?
}

/// A room event as the log keeps it: participants by their index in the log's table (two words at most).
enum LoggedEvent: Hashable, Sendable, Codable {
    case joined(UInt32, Role, ConnectionState, mic: Bool, camera: Bool, muted: Bool)
    case left(UInt32, LeaveReason)
    case connection(UInt32, ConnectionState)
    case media(UInt32, mic: Bool, camera: Bool)
    case mute(ListRun, muted: Bool)
    case role(UInt32, Role)
    case queue(ListRun, QueuePolicy)
    indirect case floor(UInt32, turnLength: Duration?)
    case turnEnded(UInt32, TurnEndReason)
    /// Round entries packed as `index << 2 | status`.
    case round(ListRun)
    /// Events that name no participant (phase, pacing, lock, end), as they are.
    indirect case room(RoomEvent)

    /// The run of lists this event refers to, if any.
    var run: ListRun? {
        switch self {
        case .mute(let run, _), .queue(let run, _), .round(let run): run
        default: nil
        }
    }

    static func pack(_ index: UInt32, _ status: RoundStatus) -> UInt32 {
        let bits: UInt32 =
            switch status {
            case .waiting: 0
            case .done: 1
            case .passed: 2
            }
        return index << 2 | bits
    }

    static func status(_ packed: UInt32) -> RoundStatus {
        switch packed & 3 {
        case 0: .waiting
        case 1: .done
        default: .passed
        }
    }
}
