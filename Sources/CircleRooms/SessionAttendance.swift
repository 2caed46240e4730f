import CircleRoom
import CircleStore

/// One session's attendance, kept from the room's own events as they happen: who came, for how long, how often
/// they dropped and came back, turns, passes, time spoken, hands raised, private words sent. Counts and times only.
/// Times are wall-clock milliseconds since the Unix epoch, kept as offsets from when the session was first seen.
///
/// One compact row per person (72 bytes, RoomFootprintTests), in an array scanned by id as the room's own are:
/// rooms hold tens of people.
final class SessionAttendance {
    let group: String
    /// The session's number, once the store has given it.
    var session: Int?
    /// Where the offsets count from.
    private var base: Int64?
    private(set) var rows: [Row] = []
    private var speaker: (index: Int, since: UInt32)?
    private var queue: [ParticipantID] = []
    /// A row changed in who is here (joined, left, dropped, came back, a new role), not only in its counts: the
    /// changed rows leave with the room's next snapshot batch. Counts alone wait for the sweep (``takeChanged``).
    private(set) var urgent = false
    /// When the rows were last all taken (wall-clock milliseconds): the sweep takes them again 30 s later.
    private(set) var sweptAt: Int64 = 0

    struct Row {
        var id: ParticipantID
        var name: String
        var firstJoin: UInt32
        var lastLeave = UInt32.max  // none
        var connectedSince = UInt32.max  // not connected
        var connectedMs: UInt32 = 0
        var spokenMs: UInt32 = 0
        var drops: UInt16 = 0
        var resumes: UInt16 = 0
        var turns: UInt16 = 0
        var passes: UInt16 = 0
        var handsRaised: UInt16 = 0
        var privateSent: UInt16 = 0
        var role: Role
        var changed = true
    }

    init(group: String) { self.group = group }

    func observe(_ event: RoomEvent, at now: Int64) {
        let t = offset(now)
        switch event {
        case .participantJoined(let view):
            urgent = true
            if let i = index(of: view.id) {
                rows[i].name = view.name
                rows[i].role = view.role
                rows[i].changed = true
                connect(i, at: t)
            } else {
                if rows.count == rows.capacity { rows.reserveCapacity(rows.count + max(2, rows.count / 8)) }
                rows.append(Row(id: view.id, name: view.name, firstJoin: t, connectedSince: t, role: view.role))
            }
        case .participantLeft(let id, _):
            guard let i = index(of: id) else { return }
            urgent = true
            endTurn(of: i, at: t, passed: false)
            disconnect(i, at: t)
            rows[i].lastLeave = t
        case .connectionChanged(let id, .reconnecting):
            guard let i = index(of: id) else { return }
            urgent = true
            disconnect(i, at: t)
            bump(i) { $0.drops &+= 1 }
        case .connectionChanged(let id, .connected):
            guard let i = index(of: id) else { return }
            urgent = true
            connect(i, at: t)
            bump(i) { $0.resumes &+= 1 }
        case .roleChanged(let id, let role):
            guard let i = index(of: id) else { return }
            urgent = true
            bump(i) { $0.role = role }
        case .queueChanged(let ids, _):
            for id in ids where !queue.contains(id) {
                if let i = index(of: id) { bump(i) { $0.handsRaised &+= 1 } }
            }
            queue = ids
        case .floorGiven(let id, _):
            guard let i = index(of: id) else { return }
            if let s = speaker, s.index != i { endTurn(of: s.index, at: t, passed: false) }
            speaker = (i, t)
        case .turnEnded(let id, let reason):
            if let i = index(of: id) { endTurn(of: i, at: t, passed: reason == .passed) }
        case .sessionEnded:
            close(at: now)
        default:
            break
        }
    }

    /// The seats of a room restored after a restart, before the store has answered: each gets a row (not connected,
    /// nothing counted), so that coming back counts from the first return; ``resume`` adds what was stored.
    func seat(_ people: [ParticipantView], at now: Int64) {
        let t = offset(now)
        for view in people where index(of: view.id) == nil {
            rows.append(Row(id: view.id, name: view.name, firstJoin: t, role: view.role))
        }
    }

    /// Goes on with a session the store kept (after a restart): its number, and the rows written so far added to
    /// what was counted since the restart (a stored row's connected time runs to when it was written).
    func resume(session number: Int, openedAt: Int64, rows stored: [AttendanceRecord]) {
        session = number
        let shift = (base ?? openedAt) - openedAt
        base = openedAt
        for i in rows.indices {  // rows made since the restart: their offsets move to the session's base
            rows[i].firstJoin = UInt32(clamping: Int64(rows[i].firstJoin) + shift)
            if rows[i].lastLeave != .max { rows[i].lastLeave = UInt32(clamping: Int64(rows[i].lastLeave) + shift) }
            if rows[i].connectedSince != .max {
                rows[i].connectedSince = UInt32(clamping: Int64(rows[i].connectedSince) + shift)
            }
        }
        if let s = speaker { speaker = (s.index, UInt32(clamping: Int64(s.since) + shift)) }
        for r in stored {
            if let i = index(of: r.sub) {
                merge(r, into: i, openedAt: openedAt)
                continue
            }
            rows.append(Row(
                id: r.sub, name: r.name, firstJoin: UInt32(clamping: r.firstJoin - openedAt),
                lastLeave: r.lastLeave.map { UInt32(clamping: $0 - openedAt) } ?? .max,
                connectedMs: UInt32(clamping: r.connectedMs), spokenMs: UInt32(clamping: r.spokenMs),
                drops: UInt16(clamping: r.drops), resumes: UInt16(clamping: r.resumes),
                turns: UInt16(clamping: r.turns), passes: UInt16(clamping: r.passes),
                handsRaised: UInt16(clamping: r.handsRaised), privateSent: UInt16(clamping: r.privateSent),
                role: Role(rawValue: r.role) ?? .member, changed: false))
        }
    }

    /// A stored row and the same person's row since the restart are one: counts and times add up.
    private func merge(_ r: AttendanceRecord, into i: Int, openedAt: Int64) {
        bump(i) { row in
            row.firstJoin = min(row.firstJoin, UInt32(clamping: r.firstJoin - openedAt))
            if row.lastLeave == .max, row.connectedSince == .max, let left = r.lastLeave {
                row.lastLeave = UInt32(clamping: left - openedAt)
            }
            row.connectedMs &+= UInt32(clamping: r.connectedMs)
            row.spokenMs &+= UInt32(clamping: r.spokenMs)
            row.drops &+= UInt16(clamping: r.drops)
            row.resumes &+= UInt16(clamping: r.resumes)
            row.turns &+= UInt16(clamping: r.turns)
            row.passes &+= UInt16(clamping: r.passes)
            row.handsRaised &+= UInt16(clamping: r.handsRaised)
            row.privateSent &+= UInt16(clamping: r.privateSent)
        }
    }

    /// A private word `from` was delivered (its text is never seen here).
    func privateWordSent(from id: ParticipantID) {
        if let i = index(of: id) { bump(i) { $0.privateSent &+= 1 } }
    }

    /// When the session closed, once it has.
    private(set) var closedAt: Int64?

    /// Ends every open interval at `now`: the session is over.
    func close(at now: Int64) {
        closedAt = closedAt ?? now
        urgent = true
        let t = offset(now)
        if let s = speaker { endTurn(of: s.index, at: t, passed: false) }
        for i in rows.indices where rows[i].connectedSince != .max {
            disconnect(i, at: t)
            if rows[i].lastLeave == .max { rows[i].lastLeave = t }
        }
    }

    /// The rows changed since the last take, as records, when one changed in who is here (``urgent``) or with
    /// `counts` (the sweep, a close, a shutdown: then every connected row too, its time connected running on);
    /// else none yet. A record's connected time runs to `now`. Nil until the session's number is known.
    func takeChanged(counts: Bool = false, at now: Int64) -> [AttendanceRecord]? {
        guard let session else { return nil }
        guard urgent || counts else { return [] }
        urgent = false
        if counts { sweptAt = now }
        let t = offset(now)
        var out: [AttendanceRecord] = []
        for i in rows.indices where rows[i].changed || (counts && rows[i].connectedSince != .max) {
            rows[i].changed = false
            out.append(record(rows[i], session: session, at: t))
        }
        return out
    }

    /// Every row, as they stand (connected time up to `now` for whoever is still here).
    func records(at now: Int64) -> [AttendanceRecord] {
        let t = UInt32(clamping: now - (base ?? now))
        return rows.map { record($0, session: session ?? 0, at: t) }
    }

    private func record(_ r: Row, session: Int, at now: UInt32?) -> AttendanceRecord {
        let base = self.base ?? 0
        var connected = Int64(r.connectedMs)
        if let now, r.connectedSince != .max { connected += Int64(now &- r.connectedSince) }
        return AttendanceRecord(
            group: group, session: session, sub: r.id, name: r.name, role: r.role.rawValue,
            firstJoin: base + Int64(r.firstJoin), lastLeave: r.lastLeave == .max ? nil : base + Int64(r.lastLeave),
            connectedMs: connected, drops: Int(r.drops), resumes: Int(r.resumes), turns: Int(r.turns),
            passes: Int(r.passes), spokenMs: Int64(r.spokenMs), handsRaised: Int(r.handsRaised),
            privateSent: Int(r.privateSent))
    }

    private func offset(_ now: Int64) -> UInt32 {
        if base == nil { base = now }
        return UInt32(clamping: now - (base ?? now))
    }

    private func index(of id: ParticipantID) -> Int? { rows.firstIndex { $0.id == id } }

    private func connect(_ i: Int, at t: UInt32) {
        if rows[i].connectedSince == .max { rows[i].connectedSince = t }
    }

    private func disconnect(_ i: Int, at t: UInt32) {
        guard rows[i].connectedSince != .max else { return }
        bump(i) { $0.connectedMs &+= t &- $0.connectedSince }
        rows[i].connectedSince = .max
    }

    private func endTurn(of i: Int, at t: UInt32, passed: Bool) {
        guard let s = speaker, s.index == i else {
            if passed { bump(i) { $0.passes &+= 1 } }  // a pass when offered a round turn without holding it
            return
        }
        speaker = nil
        bump(i) { row in
            if passed { row.passes &+= 1 } else {
                row.turns &+= 1
                row.spokenMs &+= t &- s.since
            }
        }
    }

    private func bump(_ i: Int, _ change: (inout Row) -> Void) {
        change(&rows[i])
        rows[i].changed = true
    }
}
