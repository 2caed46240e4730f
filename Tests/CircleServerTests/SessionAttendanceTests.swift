@testable import CircleRoom
@testable import CircleRooms
import CircleStore
import Testing

/// Attendance is read from the room's own events: each count and time follows from what happened, in milliseconds.
@Suite struct SessionAttendanceTests {
    private func view(_ id: String, _ role: Role = .member) -> ParticipantView {
        ParticipantView(id: id, name: "Name \(id)", role: role, connection: .connected, mic: true, camera: true,
                        muted: false)
    }

    @Test func timesAndCountsFollowTheEvents() throws {
        let a = SessionAttendance(group: "g")
        a.session = 4
        let t0: Int64 = 1_764_950_400_000
        a.observe(.participantJoined(view("f", .facilitator)), at: t0)
        a.observe(.participantJoined(view("m")), at: t0 + 1_000)
        a.observe(.queueChanged(["m"], policy: .fifo), at: t0 + 2_000)
        a.observe(.floorGiven("m", turnLength: nil), at: t0 + 3_000)
        a.observe(.queueChanged([], policy: .fifo), at: t0 + 3_000)
        a.observe(.turnEnded("m", reason: .finished), at: t0 + 63_000)
        a.observe(.connectionChanged("m", .reconnecting), at: t0 + 70_000)
        a.observe(.connectionChanged("m", .connected), at: t0 + 75_000)
        a.observe(.floorGiven("m", turnLength: nil), at: t0 + 80_000)
        a.observe(.turnEnded("m", reason: .passed), at: t0 + 81_000)
        a.observe(.queueChanged(["m"], policy: .fifo), at: t0 + 82_000)
        a.privateWordSent(from: "m")
        a.observe(.participantLeft("m", reason: .left), at: t0 + 90_000)
        a.observe(.sessionEnded, at: t0 + 100_000)
        let rows = try #require(a.takeChanged())
        let m = try #require(rows.first { $0.sub == "m" })
        #expect(m.session == 4 && m.name == "Name m" && m.role == "member")
        #expect(m.firstJoin == t0 + 1_000 && m.lastLeave == t0 + 90_000)
        #expect(m.connectedMs == 69_000 + 15_000)  // 1 s → 70 s, then 75 s → 90 s
        #expect(m.turns == 1 && m.spokenMs == 60_000 && m.passes == 1)
        #expect(m.handsRaised == 2 && m.drops == 1 && m.resumes == 1 && m.privateSent == 1)
        let f = try #require(rows.first { $0.sub == "f" })
        #expect(f.connectedMs == 100_000 && f.lastLeave == t0 + 100_000 && f.role == "facilitator")
        #expect(a.takeChanged() == [])  // nothing changed since
    }

    @Test func aSessionResumedAfterARestartKeepsItsCountsAndAddsToThem() throws {
        let a = SessionAttendance(group: "g")
        let opened: Int64 = 1_764_950_400_000
        let stored = AttendanceRecord(group: "g", session: 2, sub: "m", name: "Name m", role: "member",
                                      firstJoin: opened + 1_000, connectedMs: 50_000, drops: 0, turns: 3,
                                      handsRaised: 2)
        a.resume(session: 2, openedAt: opened, rows: [stored])
        a.observe(.connectionChanged("m", .connected), at: opened + 120_000)
        a.observe(.queueChanged(["m"], policy: .fifo), at: opened + 121_000)
        a.close(at: opened + 130_000)
        let m = try #require(a.takeChanged()?.first)
        #expect(m.session == 2 && m.firstJoin == opened + 1_000)
        #expect(m.turns == 3 && m.handsRaised == 3 && m.resumes == 1)
        #expect(m.connectedMs == 50_000 + 10_000 && m.lastLeave == opened + 130_000)
    }
}
