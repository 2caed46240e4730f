import CircleLoop
import CircleRoom
@testable import CircleRooms
import CircleServer
import CircleStore
import Foundation
import Testing

/// Who is here reaches the store with the room's next snapshot batch; counts alone (hands raised, private words,
/// turns) wait for the sweep, or leave with the next change of who is here.
@Suite struct AttendanceSweepTests {
    @Test func countsWaitForTheSweepAndPresenceTakesThemAlong() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try RecordsServer(folder: folder.path)
        let env = server.env, s = server.store, rooms = server.service
        func stored(_ sub: String) -> AttendanceRecord? {
            s.flush()
            #expect(s.waitIdle())
            var rows: [AttendanceRecord]?
            s.attendance(group: "circle-s", sub: sub) { rows = (try? $0.get()) ?? [] }
            #expect(env.run { rows != nil })
            return rows?.first
        }
        let f = Participant(env, room: "circle-s", sub: "f1", name: "Robin", role: .facilitator)
        #expect(f.waitFor(type: "welcome") != nil)
        let m = Participant(env, room: "circle-s", sub: "m1", name: "Sam", role: .member)
        #expect(m.waitFor(type: "welcome") != nil)
        #expect(env.run { stored("m1") != nil }, "a join is written with the room's batch")
        #expect(f.request("set_phase", [("phase", "sharing")])?["type"]?.stringValue == "ack")
        #expect(m.request("raise_hand")?["type"]?.stringValue == "ack")
        #expect(m.request("private_word")?["type"]?.stringValue == "ack")
        env.run(milliseconds: 150)
        #expect(stored("m1")?.handsRaised == 0, "counts alone wait")
        rooms.sweepAttendance()
        #expect(stored("m1")?.handsRaised == 0, "the room was swept when its session opened: due 30 s after")
        rooms.sweepAttendance(all: true)
        #expect(stored("m1")?.handsRaised == 1)
        #expect(stored("m1")?.privateSent == 1)

        #expect(m.request("lower_hand")?["type"]?.stringValue == "ack")
        #expect(m.request("raise_hand")?["type"]?.stringValue == "ack")
        env.run(milliseconds: 150)
        #expect(stored("m1")?.handsRaised == 1)
        let n = Participant(env, room: "circle-s", sub: "m2", name: "Kim", role: .member)
        #expect(n.waitFor(type: "welcome") != nil)
        env.run(milliseconds: 150)
        #expect(stored("m1")?.handsRaised == 2, "a join takes the room's waiting counts along")
        #expect(stored("m2") != nil)
        server.shutDown()
    }
}
