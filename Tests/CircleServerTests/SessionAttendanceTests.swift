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
        let rows = try #require(a.takeChanged(at: t0 + 100_000))
        let m = try #require(rows.first { $0.sub == "m" })
        #expect(m.session == 4 && m.name == "Name m" && m.role == "member")
        #expect(m.firstJoin == t0 + 1_000 && m.lastLeave == t0 + 90_000)
        #expect(m.connectedMs == 69_000 + 15_000)  // 1 s → 70 s, then 75 s → 90 s
        #expect(m.turns == 1 && m.spokenMs == 60_000 && m.passes == 1)
        #expect(m.handsRaised == 2 && m.drops == 1 && m.resumes == 1 && m.privateSent == 1)
        let f = try #require(rows.first { $0.sub == "f" })
        #expect(f.connectedMs == 100_000 && f.lastLeave == t0 + 100_000 && f.role == "facilitator")
        #expect(a.takeChanged(at: t0 + 200_000) == [])  // nothing changed since
        #expect(a.takeChanged(counts: true, at: t0 + 200_000) == [], "nobody is connected")
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
        let m = try #require(a.takeChanged(at: opened + 130_000)?.first)
        #expect(m.session == 2 && m.firstJoin == opened + 1_000)
        #expect(m.turns == 3 && m.handsRaised == 3 && m.resumes == 1)
        #expect(m.connectedMs == 50_000 + 10_000 && m.lastLeave == opened + 130_000)
    }

    @Test func countsWaitForTheSweepWhichAlsoWritesTheTimeOfWhoeverIsConnected() throws {
        let a = SessionAttendance(group: "g")
        a.session = 1
        let t0: Int64 = 1_764_950_400_000
        a.observe(.participantJoined(view("f", .facilitator)), at: t0)
        a.observe(.participantJoined(view("m")), at: t0)
        #expect(a.takeChanged(at: t0 + 10)?.map(\.sub) == ["f", "m"], "a join goes at once")
        a.observe(.queueChanged(["m"], policy: .fifo), at: t0 + 1_000)
        a.privateWordSent(from: "m")
        #expect(a.takeChanged(at: t0 + 2_000) == [], "counts alone wait")
        let swept = try #require(a.takeChanged(counts: true, at: t0 + 30_000))
        #expect(swept.map(\.sub) == ["f", "m"], "every connected row, its time running on")
        #expect(swept.allSatisfy { $0.connectedMs == 30_000 && $0.lastLeave == nil })
        #expect(swept.first { $0.sub == "m" }?.handsRaised == 1)
        #expect(a.sweptAt == t0 + 30_000)
        a.observe(.connectionChanged("m", .reconnecting), at: t0 + 40_000)
        let drop = try #require(a.takeChanged(at: t0 + 40_000))
        #expect(drop.map(\.sub) == ["m"] && drop.first?.connectedMs == 40_000 && drop.first?.drops == 1)
    }

    @Test func seatsRestoredBeforeTheStoreAnswersAddUpWithTheirStoredRows() throws {
        let a = SessionAttendance(group: "g")
        let opened: Int64 = 1_764_950_400_000
        let restart = opened + 100_000
        a.seat([view("m"), view("n")], at: restart)
        a.observe(.connectionChanged("m", .connected), at: restart + 2_000)  // back before the store answered
        #expect(a.takeChanged(at: restart + 2_000) == nil, "no number yet: nothing is written")
        let stored = AttendanceRecord(group: "g", session: 2, sub: "m", name: "Name m", role: "member",
                                      firstJoin: opened + 1_000, connectedMs: 90_000, drops: 1, resumes: 1,
                                      turns: 2, handsRaised: 3)
        a.resume(session: 2, openedAt: opened, rows: [stored])
        a.close(at: restart + 12_000)
        let rows = try #require(a.takeChanged(counts: true, at: restart + 12_000))
        let m = try #require(rows.first { $0.sub == "m" })
        #expect(m.firstJoin == opened + 1_000 && m.lastLeave == restart + 12_000)
        #expect(m.connectedMs == 90_000 + 10_000, "before the restart, and since coming back")
        #expect(m.resumes == 2 && m.drops == 1 && m.turns == 2 && m.handsRaised == 3)
        let n = try #require(rows.first { $0.sub == "n" })
        #expect(n.connectedMs == 0 && n.firstJoin == restart, "restored, never came back, no stored row")
    }
}
