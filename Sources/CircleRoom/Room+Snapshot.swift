/// A room's whole state as bytes for the store, and the way back.
///
/// The bytes are the engine's own `RoomState` (seq, phase, silence, seats, queue and policy, floor, round, pacing,
/// lock, removed list, stats, the epoch, and in the final snapshot of a graceful shutdown the event log that serves
/// `since` resumes), so a restored room is the room that was saved: no replay of transitions. The writer is the one
/// other description of the state, held by SnapshotEncoderTests to its `Codable` form (a field it misses fails them).
/// Instants are stored as wall-clock times and read back as "the time left less the downtime" (``InstantRebase``).
///
/// Layout: `C R S` and a version byte (1), a flags byte (bit 0: written at a graceful shutdown, nothing after it),
/// then the state (``SnapshotBytes``), written by ``SnapshotWriter`` in the bytes of its `Codable` form and read back
/// through `Codable`.
extension Room {
    static let snapshotHeader: [UInt8] = [0x43, 0x52, 0x53, 1]
    /// The header and the flags byte of a running snapshot, and of a final one.
    private static let runningHeader = snapshotHeader + [0]
    private static let finalHeader = snapshotHeader + [1]

    /// The room's epoch (see ``RoomState/epoch``).
    public var epoch: UInt64 {
        get { state.epoch }
        set { state.epoch = newValue }
    }

    /// Whether new joins are refused, and who was removed this session: what must never be lost to a crash.
    public var safety: (locked: Bool, removed: Set<ParticipantID>) { (state.locked, state.removed) }

    /// The whole state as bytes. `final` marks the snapshot written at a graceful shutdown (the room stops there).
    public func snapshotBytes(rebase: InstantRebase, final: Bool = false) -> [UInt8] {
        // The log serves `since` resumes, which only a graceful shutdown keeps: after a crash the room comes back
        // with a new epoch and every client gets a fresh snapshot. Leaving it out (an empty log of the same capacity
        // is written in its place) keeps the 10-per-second saves of a busy room to its state alone (a full log is
        // most of a snapshot's bytes and encoding time).
        let seats = state.participants.count + state.stats.inFirstJoinOrder.count
        var writer = SnapshotWriter(rebase: rebase, reserving: 512 + 160 * seats + (final ? 32 * state.log.count : 0))
        state.write(to: &writer, withLog: final)
        return writer.bytes(after: final ? Self.finalHeader : Self.runningHeader)
    }

    /// What a restore found.
    public struct Restoration {
        /// The room, every seat reconnecting (no connection survives a restart).
        public let room: Room
        /// The seq the snapshot was at, before the restore's own events.
        public let savedSeq: UInt64
        /// Whether the snapshot was the room's last word (a graceful shutdown): nothing can have been lost after it.
        public let wasFinal: Bool
    }

    /// Rebuilds a room from ``snapshotBytes(rebase:final:)``. Deadlines come back as the time that was left less the
    /// downtime (overdue ones fire at the next input or tick). `locked` and `removed` (the store's safety record,
    /// written durably, possibly after this snapshot) are applied on top: a removed participant's seat is given up,
    /// a lock is set. Seats that were connected turn reconnecting with a full grace from `rebase.now`; seats already
    /// reconnecting get a full grace from it too. The restore's own events take the next seqs; its effects are
    /// discarded (no connection of the old process is live).
    /// Without `wasFinal`, the epoch becomes `newEpoch`: events after the snapshot may have been lost.
    public static func restore(_ bytes: [UInt8], rebase: InstantRebase, locked: Bool, removed: [ParticipantID],
                               newEpoch: UInt64) throws -> Restoration {
        let (room, wasFinal) = try decode(bytes, rebase: rebase)
        if room.state.now < rebase.now { room.state.now = rebase.now }
        let savedSeq = room.state.seq
        if !wasFinal { room.state.epoch = newEpoch }
        if locked && !room.state.locked {
            room.state.locked = true
            room.emit(.lockChanged(locked: true))
        }
        for id in removed where !room.state.removed.contains(id) {
            if room.state.participants[id] != nil {
                room.removeParticipant(id, reason: .removed)
            } else {
                room.state.removed.insert(id)
            }
        }
        // A seat already reconnecting holds its grace end as raw nanoseconds of the old process's clock (a seat
        // stores it so, and only `Instant`s are rebased): it gets a full grace from now, as the connected seats do.
        let grace = room.state.config.grace, seats = room.state.participants.count
        for position in 0..<seats where room.state.participants[at: position].graceEnds != nil {
            room.state.participants[at: position].graceEnds = rebase.now + grace
        }
        for connection in room.recipients {
            room.disconnected(connection: connection, now: rebase.now)
        }
        room.effects.removeAll()
        return Restoration(room: room, savedSeq: savedSeq, wasFinal: wasFinal)
    }

    /// The room held in ``snapshotBytes(rebase:final:)`` as it was saved, its instants read through `rebase`, and
    /// whether the snapshot was final.
    static func decode(_ bytes: [UInt8], rebase: InstantRebase) throws -> (room: Room, wasFinal: Bool) {
        guard bytes.count > 5, Array(bytes[0..<4]) == snapshotHeader else {
            throw SnapshotError("not a room snapshot (or another version)")
        }
        var offset = 5
        let state = try SnapshotBytes.read(RoomState.self, from: bytes, at: &offset, rebase: rebase)
        let room = Room(id: state.id, config: state.config, now: state.now)
        room.state = state
        room.recipients = state.participants.inJoinOrder.compactMap(\.connection)
        return (room, bytes[4] & 1 != 0)
    }
}
