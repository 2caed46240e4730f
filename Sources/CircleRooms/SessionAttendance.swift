import CircleRoom
import CircleStore

/// One session's attendance, kept from the room's own events as they happen: who came, for how long, how often
/// they dropped and came back, turns, passes, time spoken, hands raised, private words sent. Counts and times only.
/// Times are wall-clock milliseconds since the Unix epoch.
struct SessionAttendance {
    let group: String
    /// The session's number, once the store has given it.
    var session: Int?
    private(set) var rows: [ParticipantID: AttendanceRecord] = [:]
    /// Rows changed since ``takeChanged()``.
    private var changed: Set<ParticipantID> = []
    /// Who is connected now, since when.
    private var connectedSince: [ParticipantID: Int64] = [:]
    private var speaker: (id: ParticipantID, since: Int64)?
    private var queue: [ParticipantID] = []

    init(group: String) { self.group = group }

    mutating func observe(_ event: RoomEvent, at now: Int64) {
        switch event {
        case .participantJoined(let view):
            var row = rows[view.id] ?? AttendanceRecord(group: group, session: session ?? 0, sub: view.id,
                                                        name: view.name, role: view.role.rawValue, firstJoin: now)
            row.name = view.name
            row.role = view.role.rawValue
            rows[view.id] = row
            connect(view.id, at: now)
            changed.insert(view.id)
        case .participantLeft(let id, _):
            endTurn(of: id, at: now, passed: false)
            disconnect(id, at: now)
            update(id) { $0.lastLeave = now }
        case .connectionChanged(let id, .reconnecting):
            disconnect(id, at: now)
            update(id) { $0.drops += 1 }
        case .connectionChanged(let id, .connected):
            connect(id, at: now)
            update(id) { $0.resumes += 1 }
        case .roleChanged(let id, let role):
            update(id) { $0.role = role.rawValue }
        case .queueChanged(let ids, _):
            for id in ids where !queue.contains(id) { update(id) { $0.handsRaised += 1 } }
            queue = ids
        case .floorGiven(let id, _):
            if let s = speaker, s.id != id { endTurn(of: s.id, at: now, passed: false) }
            speaker = (id, now)
        case .turnEnded(let id, let reason):
            endTurn(of: id, at: now, passed: reason == .passed)
        case .sessionEnded:
            close(at: now)
        default:
            break
        }
    }

    /// A private word `from` was delivered (its text is never seen here).
    mutating func privateWordSent(from id: ParticipantID) {
        update(id) { $0.privateSent += 1 }
    }

    /// Ends every open interval at `now`: the session is over.
    mutating func close(at now: Int64) {
        if let s = speaker { endTurn(of: s.id, at: now, passed: false) }
        for id in Array(connectedSince.keys) {
            disconnect(id, at: now)
            update(id) { $0.lastLeave = $0.lastLeave ?? now }
        }
    }

    /// The rows changed since the last call, with the session number filled in; nil until the number is known.
    mutating func takeChanged() -> [AttendanceRecord]? {
        guard let session else { return nil }
        defer { changed.removeAll(keepingCapacity: true) }
        return changed.sorted().compactMap { id in
            rows[id].map { var r = $0; r.session = session; return r }
        }
    }

    /// Every row, as they stand (connected time up to `now` for whoever is still here).
    func records(at now: Int64) -> [AttendanceRecord] {
        rows.keys.sorted().compactMap { id in
            guard var r = rows[id] else { return nil }
            r.session = session ?? 0
            if let since = connectedSince[id] { r.connectedMs += now - since }
            return r
        }
    }

    private mutating func connect(_ id: ParticipantID, at now: Int64) {
        if connectedSince[id] == nil { connectedSince[id] = now }
    }

    private mutating func disconnect(_ id: ParticipantID, at now: Int64) {
        guard let since = connectedSince.removeValue(forKey: id) else { return }
        update(id) { $0.connectedMs += now - since }
    }

    private mutating func endTurn(of id: ParticipantID, at now: Int64, passed: Bool) {
        guard let s = speaker, s.id == id else {
            if passed { update(id) { $0.passes += 1 } }  // a pass when offered a round turn without holding it
            return
        }
        speaker = nil
        update(id) { row in
            if passed { row.passes += 1 } else {
                row.turns += 1
                row.spokenMs += now - s.since
            }
        }
    }

    private mutating func update(_ id: ParticipantID, _ change: (inout AttendanceRecord) -> Void) {
        guard var row = rows[id] else { return }
        change(&row)
        rows[id] = row
        changed.insert(id)
    }
}
