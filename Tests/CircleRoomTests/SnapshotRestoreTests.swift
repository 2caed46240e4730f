import CircleRoomTestSupport
import Testing

@testable import CircleRoom

@Suite("Snapshot and restore")
struct SnapshotRestoreTests {
    /// A room with something of everything: a paced turn, a queue, a mute, a promotion, a removal, a lock, stats.
    private func busyRoom() -> Harness {
        let h = Harness()
        h.join("f", .facilitator)
        for sub in ["a", "b", "c", "d"] { h.join(sub) }
        h.send("f", .setPacing(Pacing(turnLength: .seconds(120), nudgeBefore: .seconds(10))))
        h.send("f", .setPhase(.sharing))
        h.send("b", .raiseHand)
        h.send("c", .raiseHand)
        h.send("f", .giveFloor(to: "a"))
        h.advance(.seconds(20))
        h.send("f", .mute("d"))
        h.send("f", .promote("b"))
        h.send("f", .remove("c"))
        h.send("f", .lock)
        h.advance(.seconds(5))
        return h
    }

    private func rebase(_ instant: Instant, wall: Int64) -> InstantRebase {
        InstantRebase(now: instant, wallNanoseconds: wall)
    }

    @Test func aRestoredRoomIsTheSavedRoomWithEverySeatReconnecting() throws {
        let h = busyRoom()
        let saved = h.room.state
        let wall: Int64 = 1_700_000_000_000_000_000
        let bytes = h.room.snapshotBytes(rebase: rebase(h.now, wall: wall), final: true)
        // Another process, another monotonic origin, 3 s of downtime.
        let later = Instant.seconds(50)
        let restored = try Room.restore(bytes, rebase: rebase(later, wall: wall + 3_000_000_000), locked: false,
                                        removed: [], newEpoch: 99)
        let room = restored.room
        #expect(restored.wasFinal)
        #expect(restored.savedSeq == saved.seq)
        #expect(room.epoch == saved.epoch)  // nothing was lost: the epoch stays
        #expect(room.phase == .sharing)
        #expect(room.state.queue == saved.queue)
        #expect(room.state.queuePolicy == saved.queuePolicy)
        #expect(room.state.pacing == saved.pacing)
        #expect(room.state.locked)
        #expect(room.state.removed == ["c"])
        #expect(room.state.floor?.speaker == "a")
        #expect(room.state.stats == saved.stats)
        #expect(room.state.participants[id: "b"]?.role == .cofacilitator)
        #expect(room.state.participants[id: "d"]?.view.muted == true)
        // Every connected seat turned reconnecting, one event each, after the saved seq.
        #expect(room.seq == saved.seq + 4)
        #expect(room.state.participants.inJoinOrder.allSatisfy { $0.view.connection == .reconnecting })
        #expect(room.connections.isEmpty)
        // The turn had 95 s left; 3 s of downtime leaves 92 s; the nudge is 10 s before the end.
        #expect(room.state.floor?.endsAt == later + .seconds(92))
        #expect(room.state.floor?.nudgeAt == later + .seconds(82))
        // The log still serves a resume from before the shutdown.
        #expect(room.state.log.events(after: saved.seq - 3, latest: room.seq)?.count == 7)
    }

    @Test func aSilenceKeepsItsTimeLeftLessTheDowntime() throws {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("a")
        h.send("f", .startSilence(.seconds(60)))
        h.advance(.seconds(10))
        let wall: Int64 = 1_000_000_000_000
        let bytes = h.room.snapshotBytes(rebase: rebase(h.now, wall: wall))
        let restored = try Room.restore(bytes, rebase: rebase(.seconds(7), wall: wall + 20_000_000_000),
                                        locked: false, removed: [], newEpoch: 5)
        #expect(restored.room.state.silence?.endsAt == .seconds(7) + .seconds(30))
        #expect(!restored.wasFinal)
        #expect(restored.room.epoch == 5)  // a crash snapshot: a new epoch
        // Past its end during the downtime: it ends at the first tick.
        let late = try Room.restore(bytes, rebase: rebase(.seconds(7), wall: wall + 90_000_000_000),
                                    locked: false, removed: [], newEpoch: 5)
        late.room.tick(now: .seconds(7))
        #expect(late.room.phase == .intro)
    }

    /// A seat reconnecting when the snapshot was taken: its grace end is not on the new process's clock (another
    /// host, a reboot), so it gets a full grace from the restore, like the seats that were connected.
    @Test func aSeatReconnectingAtTheSnapshotGetsAFullGraceFromTheRestore() throws {
        let h = Harness(config: RoomConfig(grace: .seconds(30)))
        h.join("f", .facilitator)
        h.join("d")
        h.advance(.seconds(10))
        h.drop("d")
        h.advance(.seconds(10))
        let wall: Int64 = 1_700_000_000_000_000_000
        let bytes = h.room.snapshotBytes(rebase: rebase(h.now, wall: wall))
        let later = Instant.seconds(50)  // another clock origin, 3 s of downtime
        let room = try Room.restore(bytes, rebase: rebase(later, wall: wall + 3_000_000_000), locked: false,
                                    removed: [], newEpoch: 2).room
        #expect(room.state.participants[id: "d"]?.graceEnds == later + .seconds(30))
        #expect(room.state.participants[id: "f"]?.graceEnds == later + .seconds(30))
        room.tick(now: later + .seconds(31))
        #expect(room.state.participants.count == 0)  // both gave up their seats at the end of their grace
    }

    @Test func theSafetyRecordWinsOverAnOlderSnapshot() throws {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("a")
        let wall: Int64 = 1_000_000_000_000
        let bytes = h.room.snapshotBytes(rebase: rebase(h.now, wall: wall))
        let restored = try Room.restore(bytes, rebase: rebase(.seconds(1), wall: wall + 1_000_000_000),
                                        locked: true, removed: ["a"], newEpoch: 2)
        let room = restored.room
        #expect(room.state.locked)
        #expect(room.state.participants[id: "a"] == nil)
        #expect(room.state.removed == ["a"])
        var effects: [RoomEffect] = []
        room.join(connection: ConnectionID(1), identity: Identity(sub: "a", name: "A", role: .member),
                  now: .seconds(2))
        swap(&effects, &room.effects)
        #expect(effects.contains { if case .close(_, 4001, _) = $0 { true } else { false } })
        room.join(connection: ConnectionID(2), identity: Identity(sub: "new", name: "N", role: .member),
                  now: .seconds(2))
        #expect(room.effects.contains { if case .close(_, 4002, _) = $0 { true } else { false } })
    }

    @Test func damagedBytesAreAnErrorNotACrash() {
        let h = busyRoom()
        let bytes = h.room.snapshotBytes(rebase: rebase(h.now, wall: 0))
        let r = rebase(.seconds(1), wall: 0)
        for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 50)) {
            #expect(throws: (any Error).self) {
                try Room.restore(Array(bytes[0..<cut]), rebase: r, locked: false, removed: [], newEpoch: 1)
            }
        }
        var flipped = bytes
        flipped[0] ^= 0xFF
        #expect(throws: (any Error).self) {
            try Room.restore(flipped, rebase: r, locked: false, removed: [], newEpoch: 1)
        }
    }
}

extension Seats {
    subscript(id id: ParticipantID) -> Participant? { self[id] }
}

@Suite("Snapshot size and cost")
struct SnapshotCostTests {
    /// A ten-seat room whose log is full (256 events): the snapshot's size and encoding time, printed for the docs.
    @Test func aFullRoomsSnapshotIsSmallAndQuick() throws {
        let h = Harness()
        h.join("f", .facilitator)
        for i in 0..<9 { h.join("member-\(i)") }
        for round in 0..<60 {
            for i in 0..<3 { h.send("member-\((round + i) % 9)", .raiseHand) }
            h.send("f", .giveFloor(to: nil))
            h.advance(.seconds(1))
        }
        #expect(h.room.state.log.count == 256)
        let rebase = InstantRebase(now: h.now, wallNanoseconds: 1_000_000_000_000)
        var bytes: [UInt8] = []
        let clock = ContinuousClock()
        let n = 200
        var final: [UInt8] = []
        let spentFinal = clock.measure {
            for _ in 0..<n { final = h.room.snapshotBytes(rebase: rebase, final: true) }
        }
        let spent = clock.measure {
            for _ in 0..<n { bytes = h.room.snapshotBytes(rebase: rebase) }
        }
        // The final snapshot (a graceful shutdown) keeps the log for `since` resumes; the running ones leave it out.
        let seq = h.room.seq
        let restored = try Room.restore(final, rebase: rebase, locked: false, removed: [], newEpoch: 1)
        #expect(restored.room.state.log.events(after: seq - 200, latest: seq) == h.room.state.log.events(
            after: seq - 200, latest: seq))
        let running = try Room.restore(bytes, rebase: rebase, locked: false, removed: [], newEpoch: 1)
        #expect(running.room.state.log.oldestSeq! > seq)  // only the restore's own events
        #expect(running.room.state.participants.count == h.room.state.participants.count)
        print("snapshot: \(bytes.count) bytes, \(spent / n) per encode; final \(final.count) bytes, \(spentFinal / n)")
        #expect(final.count < 16_384)
        #expect(bytes.count * 2 < final.count)
    }
}

/// A `phase_changed` as a version 1 server stored it (no `returnsTo`): the same case name, so the same stored shape.
private enum StoredBeforeVersion2: Codable, Equatable {
    case phaseChanged(Phase, silence: Duration?)
}

@Suite("Stored events across protocol 2")
struct StoredEventVersionTests {
    private let rebase = InstantRebase(now: .zero, wallNanoseconds: 1_700_000_000_000_000_000)

    private func roundTrip<From: Encodable, To: Decodable>(_ value: From, as _: To.Type) throws -> To {
        var bytes: [UInt8] = []
        try SnapshotOracle.write(value, rebase: rebase, into: &bytes)
        var offset = 0
        return try SnapshotBytes.read(To.self, from: bytes, at: &offset, rebase: rebase)
    }

    /// A log saved before protocol 2 reads back: the silence event just lacks where it returns.
    @Test func aSilenceEventStoredBeforeVersion2ReadsBackWithoutItsReturn() throws {
        let old = StoredBeforeVersion2.phaseChanged(.silence, silence: .seconds(60))
        #expect(try roundTrip(old, as: RoomEvent.self) == .phaseChanged(.silence, silence: .seconds(60)))
    }

    /// A log saved by protocol 2 still reads in a version 1 binary (a rollback): the extra member is ignored.
    @Test func aSilenceEventStoredByVersion2ReadsInAVersion1Binary() throws {
        let new = RoomEvent.phaseChanged(.silence, silence: .seconds(60), returnsTo: .close)
        #expect(try roundTrip(new, as: StoredBeforeVersion2.self) == .phaseChanged(.silence, silence: .seconds(60)))
        #expect(try roundTrip(new, as: RoomEvent.self) == new)
    }
}
