import CircleRoom
@testable import CircleRooms
import CircleStore
import Foundation
import Testing

/// What reaches the store between a room's snapshots, through a real server and store: each change as a journal
/// record (never what anyone said), then a snapshot in their place after 64 of them.
@Suite struct JournalPolicyTests {
    @Test func changesAreJournalRecordsUntilASnapshotReplacesThem() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try RecordsServer(folder: folder.path, rooms: true)
        let env = server.env, s = server.store
        func stored() -> RestoredRoom? {
            s.flush()
            #expect(s.waitIdle())
            var room: RestoredRoom??
            s.loadRoom(group: "circle-j") { result in room = .some(try? result.get()) }
            #expect(env.run { room != nil })
            return room ?? nil
        }
        let f = Participant(env, room: "circle-j", sub: "f1", name: "Robin", role: .facilitator)
        #expect(f.waitFor(type: "welcome") != nil)
        env.run(milliseconds: 150)
        let first = try #require(stored()?.snapshot, "a new room's first change is a snapshot")
        #expect(stored()?.events.isEmpty == true)

        let m = Participant(env, room: "circle-j", sub: "m1", name: "Sam", role: .member)
        #expect(m.waitFor(type: "welcome") != nil)
        #expect(f.request("set_phase", [("phase", "sharing")])?["type"]?.stringValue == "ack")
        #expect(m.request("raise_hand")?["type"]?.stringValue == "ack")
        #expect(m.request("private_word", [("text", "words kept out")])?["type"]?.stringValue == "ack")
        env.run(milliseconds: 150)
        let room = try #require(stored())
        #expect(room.snapshot == first, "no snapshot while the journal has room")
        let records = room.events.compactMap { JournalRecord($0.bytes) }
        #expect(records.count == room.events.count)
        let inputs = records.map(\.input)
        try #require(inputs.count == 3, "\(inputs)")
        let member = inputs[0].connection, facilitator = inputs[1].connection
        #expect(inputs[0] == .join(try #require(member), Identity(sub: "m1", name: "Sam", role: .member)))
        #expect(inputs[1] == .command(try #require(facilitator), .setPhase(.sharing)))
        #expect(inputs[2] == .command(try #require(member), .raiseHand))
        #expect(records.first?.seqBefore == first.seq && records.last?.seqAfter == room.events.last?.seq)
        #expect(!room.events.contains { String(decoding: $0.bytes, as: UTF8.self).contains("words kept out") })

        // 64 records, then the next change is a snapshot: the records before it no longer load.
        for _ in 0..<31 {
            #expect(m.request("lower_hand")?["type"]?.stringValue == "ack")
            #expect(m.request("raise_hand")?["type"]?.stringValue == "ack")
            env.run(milliseconds: 100)  // within the message rate (20 a second)
        }
        env.run(milliseconds: 150)
        let later = try #require(stored())
        let snapshot = try #require(later.snapshot)
        #expect(snapshot.seq > first.seq && later.events.count < 64)
        #expect(later.events.compactMap { JournalRecord($0.bytes) }.first?.seqBefore ?? snapshot.seq == snapshot.seq)
        server.shutDown()
    }
}

extension RoomInput {
    var connection: ConnectionID? {
        switch self {
        case let .join(c, _), let .command(c, _), let .disconnected(c): c
        case .tick: nil
        }
    }
}
