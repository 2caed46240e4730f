import CircleStore
import CircleTestSupport
import Foundation
import Testing

/// The store on real SQLite files: room state, compaction, sessions and attendance, retention and erasure.
@Suite struct StoreDataTests {
    @Test func snapshotAndEventsRoundTripAcrossReopen() throws {
        let temp = TempDirectory()
        do {
            let h = try StoreHarness(temp.data)
            h.store.putSnapshot(RoomSnapshot(group: "g1", seq: 10, epoch: 3, bytes: [1, 2, 3]))
            for seq in 11...13 { h.store.appendEvent(group: "g1", seq: UInt64(seq), bytes: [UInt8(seq)]) }
            h.store.putSnapshot(RoomSnapshot(group: "g2", seq: 0, epoch: 1, bytes: [0]))
            h.store.appendEvent(group: "g2", seq: 1, bytes: [])
            // A journal follows a snapshot: records of a group with none are not kept.
            h.store.appendEvent(group: "g3", seq: 1, bytes: [])
            h.store.close()
        }
        let h = try StoreHarness(temp.data)
        let room = try #require(try h.await { h.store.loadRoom(group: "g1", completion: $0) })
        #expect(room.snapshot == RoomSnapshot(group: "g1", seq: 10, epoch: 3, bytes: [1, 2, 3]))
        #expect(room.events == [11, 12, 13].map { StoredEvent(seq: $0, bytes: [UInt8($0)]) })
        let second = try #require(try h.await { h.store.loadRoom(group: "g2", completion: $0) })
        #expect(second.snapshot?.seq == 0 && second.events == [StoredEvent(seq: 1, bytes: [])])
        #expect(try h.await { h.store.loadRoom(group: "g3", completion: $0) } == nil)
        #expect(try h.await { h.store.loadRoom(group: "none", completion: $0) } == nil)
        #expect(try h.await { h.store.listRooms(completion: $0) } == ["g1", "g2"])
        h.store.dropRoom(group: "g2")
        #expect(try h.await { h.store.listRooms(completion: $0) } == ["g1"])
        // A group opened again after a drop starts from its new snapshot: the old incarnation's records are gone.
        h.store.putSnapshot(RoomSnapshot(group: "g2", seq: 0, epoch: 2, bytes: [9]))
        let again = try #require(try h.await { h.store.loadRoom(group: "g2", completion: $0) })
        #expect(again.snapshot?.epoch == 2 && again.events.isEmpty)
    }

    @Test func aSnapshotDropsTheEventsBeforeIt() throws {
        let temp = TempDirectory()
        let h = try StoreHarness(temp.data)
        h.store.putSnapshot(RoomSnapshot(group: "g", seq: 0, epoch: 1, bytes: [0]))
        for seq in 1...20 { h.store.appendEvent(group: "g", seq: UInt64(seq), bytes: [UInt8(seq)]) }
        h.store.putSnapshot(RoomSnapshot(group: "g", seq: 20, epoch: 1, bytes: [0xff]))
        h.store.appendEvent(group: "g", seq: 21, bytes: [21])
        h.store.appendEvent(group: "g", seq: 21, bytes: [22])  // an input that changed no seq is kept too
        var room = try #require(try h.await { h.store.loadRoom(group: "g", completion: $0) })
        #expect(room.snapshot?.seq == 20)
        #expect(room.events == [StoredEvent(seq: 21, bytes: [21]), StoredEvent(seq: 21, bytes: [22])])
        // Compaction runs every so many records, in one pass below the oldest record a group still needs: h's
        // record keeps every later one until h's next snapshot.
        h.store.putSnapshot(RoomSnapshot(group: "h", seq: 0, epoch: 1, bytes: [0]))
        h.store.appendEvent(group: "h", seq: 1, bytes: [1])
        h.store.putSnapshot(RoomSnapshot(group: "k", seq: 1, epoch: 1, bytes: [0]))
        for seq in 2...1_100 { h.store.appendEvent(group: "k", seq: UInt64(seq), bytes: []) }
        #expect(try h.await { h.store.loadRoom(group: "h", completion: $0) }?.events.count == 1)
        func rows() throws -> [String] {
            try runProcess(["sqlite3", temp.data + "/circle.db",
                            "SELECT group_id || count(*) FROM room_events GROUP BY group_id ORDER BY 1"])
                .stdout.split(separator: "\n").map(String.init)
        }
        #expect(try rows() == ["g2", "h1", "k1099"])  // g's 20 records before its second snapshot are gone
        for group in ["g", "h", "k"] { h.store.putSnapshot(RoomSnapshot(group: group, seq: 9, epoch: 1, bytes: [])) }
        h.store.putSnapshot(RoomSnapshot(group: "m", seq: 0, epoch: 1, bytes: [0]))
        for seq in 1...1_100 { h.store.appendEvent(group: "m", seq: UInt64(seq), bytes: []) }
        room = try #require(try h.await { h.store.loadRoom(group: "g", completion: $0) })
        #expect(room.events.isEmpty)
        h.store.close()
        #expect(try rows() == ["m1100"])
    }

    @Test func safetyStateIsKeptWithTheRoom() throws {
        let temp = TempDirectory()
        let h = try StoreHarness(temp.data)
        h.store.putSafety(group: "g", SafetyState(locked: true, removed: ["b", "a"]), durable: false, completion: nil)
        var room = try #require(try h.await { h.store.loadRoom(group: "g", completion: $0) })
        #expect(room.safety == SafetyState(locked: true, removed: ["a", "b"]))
        h.store.putSafety(group: "g", SafetyState(locked: false, removed: ["a"]), durable: false, completion: nil)
        room = try #require(try h.await { h.store.loadRoom(group: "g", completion: $0) })
        #expect(room.safety == SafetyState(locked: false, removed: ["a"]))
    }

    @Test func sessionNumbersCountUpPerGroup() throws {
        let temp = TempDirectory()
        let h = try StoreHarness(temp.data)
        #expect(try h.await { h.store.openSession(group: "a", openedAt: 1_000, completion: $0) } == 1)
        var closed = false
        h.store.closeSession(group: "a", number: 1, closedAt: 2_000) { error in closed = error == nil }
        h.run { closed }
        #expect(closed)
        #expect(try h.await { h.store.openSession(group: "b", openedAt: 2_500, completion: $0) } == 1)
        #expect(try h.await { h.store.openSession(group: "a", openedAt: 3_000, completion: $0) } == 2)
        // A session a crash left open is closed when the next one opens.
        #expect(try h.await { h.store.openSession(group: "a", openedAt: 4_000, completion: $0) } == 3)
        let sessions = try h.await { h.store.sessions(group: "a", completion: $0) }
        #expect(sessions == [
            SessionRecord(group: "a", number: 1, openedAt: 1_000, closedAt: 2_000),
            SessionRecord(group: "a", number: 2, openedAt: 3_000, closedAt: 4_000),
            SessionRecord(group: "a", number: 3, openedAt: 4_000, closedAt: nil),
        ])
    }

    @Test func attendanceIsUpsertedWholeAndFilteredBySub() throws {
        let temp = TempDirectory()
        let h = try StoreHarness(temp.data)
        _ = try h.await { h.store.openSession(group: "g", openedAt: 0, completion: $0) }
        var ana = AttendanceRecord(group: "g", session: 1, sub: "ana", name: "Ana", role: "member", firstJoin: 10)
        h.store.putAttendance(ana)
        ana.lastLeave = 900; ana.connectedMs = 890; ana.drops = 1; ana.resumes = 1; ana.turns = 2; ana.passes = 1
        ana.spokenMs = 120_000; ana.handsRaised = 3; ana.privateSent = 4
        h.store.putAttendance(ana)
        let fac = AttendanceRecord(group: "g", session: 1, sub: "fac", name: "Dr F", role: "facilitator", firstJoin: 5)
        h.store.putAttendance(fac)
        #expect(try h.await { h.store.attendance(group: "g", sub: nil, completion: $0) } == [ana, fac])
        #expect(try h.await { h.store.attendance(group: "g", sub: "ana", completion: $0) } == [ana])
        #expect(try h.await { h.store.attendance(group: "other", sub: nil, completion: $0) } == [])
    }

    @Test func retentionDeletesOldSessionsAndTheirAttendance() throws {
        let temp = TempDirectory()
        let h = try StoreHarness(temp.data)
        for (opened, closed) in [(100, 200), (300, 400), (500, 600)] {
            let n = try h.await { h.store.openSession(group: "g", openedAt: Int64(opened), completion: $0) }
            h.store.closeSession(group: "g", number: n, closedAt: Int64(closed), completion: nil)
            h.store.putAttendance(AttendanceRecord(group: "g", session: n, sub: "s", name: "S", role: "member",
                                                   firstJoin: Int64(opened)))
        }
        #expect(try h.await { h.store.deleteRecords(before: 450, completion: $0) } == 2)
        #expect(try h.await { h.store.sessions(group: "g", completion: $0) }.map(\.number) == [3])
        #expect(try h.await { h.store.attendance(group: "g", sub: nil, completion: $0) }.map(\.session) == [3])
        // Numbers go on counting when every old session is gone.
        #expect(try h.await { h.store.deleteRecords(before: 10_000, completion: $0) } == 1)
        #expect(try h.await { h.store.sessions(group: "g", completion: $0) }.isEmpty)
        #expect(try h.await { h.store.openSession(group: "g", openedAt: 20_000, completion: $0) } == 4)
    }

    @Test func erasureRemovesOneSubInOneGroup() throws {
        let temp = TempDirectory()
        let h = try StoreHarness(temp.data)
        for group in ["g", "h"] {
            for session in 1...2 {
                for sub in ["x", "y"] {
                    h.store.putAttendance(AttendanceRecord(group: group, session: session, sub: sub, name: sub,
                                                           role: "member", firstJoin: 0))
                }
            }
        }
        #expect(try h.await { h.store.erase(group: "g", sub: "x", completion: $0) } == 2)
        #expect(try h.await { h.store.attendance(group: "g", sub: nil, completion: $0) }.map(\.sub) == ["y", "y"])
        #expect(try h.await { h.store.attendance(group: "h", sub: "x", completion: $0) }.count == 2)
        // The removed list is safety, not a record: erasure leaves it.
    }
}
