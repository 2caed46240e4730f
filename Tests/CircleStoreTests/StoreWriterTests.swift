import CircleStore
import Foundation
import Testing

/// The loop-side front and the writer thread: batches, the bound, completions on the calling thread.
@Suite struct StoreWriterTests {
    @Test func writesOfOneTurnLeaveAsOneTransaction() throws {
        let temp = TempDirectory()
        let h = try StoreHarness(temp.data)
        let turns = 50, perTurn = 40
        for turn in 0..<turns {
            for i in 0..<perTurn {
                h.store.appendEvent(group: "g\(i % 7)", seq: UInt64(turn * perTurn + i + 1), bytes: [UInt8(i)])
            }
            h.store.flush()
        }
        #expect(h.store.waitIdle())
        let stats = h.store.stats
        #expect(stats.writesQueued == UInt64(turns * perTurn))
        #expect(stats.writesCommitted == UInt64(turns * perTurn))
        // At most one transaction per turn, fewer when the writer was still busy with the last one.
        #expect(stats.transactions >= 1 && stats.transactions <= UInt64(turns))
        #expect(stats.queuedWrites == 0 && stats.queuedBytes == 0)
        #expect(stats.bytesCommitted == UInt64(turns * perTurn))
    }

    @Test func nothingIsWrittenBeforeAFlush() throws {
        let temp = TempDirectory()
        var configuration = StoreConfiguration()
        configuration.flushThreshold = 1_000
        let h = try StoreHarness(temp.data, configuration: configuration)
        for seq in 1...10 { h.store.appendEvent(group: "g", seq: UInt64(seq), bytes: [1]) }
        usleep(50_000)
        #expect(h.store.stats.transactions == 0)
        #expect(h.store.stats.queuedWrites == 10)
        h.store.flush()
        #expect(h.store.waitIdle())
        #expect(h.store.stats.transactions == 1)
    }

    @Test func completionsRunOnTheLoopThreadAfterAWakeUp() throws {
        let temp = TempDirectory()
        let h = try StoreHarness(temp.data)
        let loopThread = pthread_self()
        var ranOn: pthread_t?
        h.store.listRooms { _ in ranOn = pthread_self() }
        h.run { ranOn != nil }
        #expect(ranOn.map { pthread_equal($0, loopThread) != 0 } == true)
        #expect(h.counter.total >= 1)
    }

    @Test func aFullQueueRefusesAndCountsAndTheRoomNeedsASnapshotToGoOn() throws {
        let temp = TempDirectory()
        var configuration = StoreConfiguration()
        configuration.maxQueuedWrites = 100
        configuration.flushThreshold = 1_000_000
        let h = try StoreHarness(temp.data, configuration: configuration)
        for seq in 1...100 { #expect(h.store.appendEvent(group: "g", seq: UInt64(seq), bytes: [1])) }
        #expect(!h.store.appendEvent(group: "g", seq: 101, bytes: [1]))
        #expect(!h.store.putAttendance(AttendanceRecord(group: "g", session: 1, sub: "s", name: "n", role: "member",
                                                         firstJoin: 0)))
        #expect(h.store.stats.writesRefused == 2)
        // Safety writes are never refused.
        h.store.putSafety(group: "g", SafetyState(locked: true), durable: false, completion: nil)
        #expect(h.store.waitIdle())
        // Room again, but g lost event 101: it refuses events until a snapshot covers the gap.
        #expect(!h.store.appendEvent(group: "g", seq: 102, bytes: [1]))
        #expect(h.store.appendEvent(group: "other", seq: 1, bytes: [1]))
        #expect(h.store.putSnapshot(RoomSnapshot(group: "g", seq: 102, epoch: 1, bytes: [9])))
        #expect(h.store.appendEvent(group: "g", seq: 103, bytes: [1]))
        let room = try #require(try h.await { h.store.loadRoom(group: "g", completion: $0) })
        #expect(room.snapshot?.seq == 102 && room.events.map(\.seq) == [103] && room.safety.locked)
    }

    @Test func closeCommitsEverythingQueued() throws {
        let temp = TempDirectory()
        do {
            let h = try StoreHarness(temp.data)
            h.store.putSnapshot(RoomSnapshot(group: "g", seq: 0, epoch: 1, bytes: [0]))
            for seq in 1...500 { h.store.appendEvent(group: "g", seq: UInt64(seq), bytes: [UInt8(seq & 0xff)]) }
            h.store.close()  // no flush, no wait: close does both
        }
        let h = try StoreHarness(temp.data)
        let room = try #require(try h.await { h.store.loadRoom(group: "g", completion: $0) })
        #expect(room.events.count == 500)
    }
}
