/// One input to a room, as the service feeds it: what the store's journal records, and what a restore replays
/// through the same calls (``Room/apply(_:now:)``).
public enum RoomInput: Sendable, Equatable {
    /// ``Room/join(connection:identity:resumeFrom:now:)`` (a resume's `since` only shapes the welcome).
    case join(ConnectionID, Identity)
    /// ``Room/handle(connection:requestID:command:now:)`` (the request id only shapes the answer).
    case command(ConnectionID, Command)
    /// ``Room/disconnected(connection:now:)``.
    case disconnected(ConnectionID)
    /// ``Room/tick(now:)``.
    case tick
}

extension Room {
    /// Feeds one input (see ``RoomInput``).
    public func apply(_ input: RoomInput, now: Instant) {
        switch input {
        case let .join(connection, identity): join(connection: connection, identity: identity, now: now)
        case let .command(connection, command): handle(connection: connection, command: command, now: now)
        case let .disconnected(connection): disconnected(connection: connection, now: now)
        case .tick: tick(now: now)
        }
    }

    /// Replays one input of a journal: true when the room took it as it did first (it ends at seq `expected`);
    /// otherwise the room is put back as it was before it, and false is returned. Effects are discarded.
    public func replay(_ input: RoomInput, now: Instant, expecting expected: UInt64) -> Bool {
        let (before, recipientsBefore) = (state, recipients)
        apply(input, now: now)
        effects.removeAll()
        guard state.seq == expected else {
            (state, recipients) = (before, recipientsBefore)
            return false
        }
        return true
    }

    /// The state of ``snapshotBytes(rebase:final:)`` carried forward by `replay`, which feeds the room the inputs
    /// that followed the snapshot in the process that wrote it: `rebase` must be the one that process wrote with,
    /// so that the snapshot's instants, its seats' grace ends and the inputs' instants share one clock. Returns the
    /// room's bytes after the replay (a running snapshot, written with the same `rebase`); effects are discarded. A
    /// final snapshot comes back as it is, unreplayed.
    public static func replaying(_ bytes: [UInt8], rebase: InstantRebase, _ replay: (Room) -> Void) throws
        -> [UInt8]
    {
        let (room, wasFinal) = try decode(bytes, rebase: rebase)
        guard !wasFinal else { return bytes }  // a graceful shutdown's snapshot: nothing came after it
        replay(room)
        room.effects.removeAll()
        return room.snapshotBytes(rebase: rebase)
    }
}
