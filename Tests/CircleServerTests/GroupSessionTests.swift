import CircleJSON
import CircleLoop
import CircleRoom
import CircleRooms
import CircleServer
import CircleStore
import Foundation
import Testing

/// A room id names a group that meets week after week: a session opens when a facilitator joins, members who come
/// first wait calmly, `end_session` closes it, and each session's attendance is kept.
@Suite struct GroupSessionTests {
    private func isWaiting(_ m: JSON) -> Bool {
        m["type"]?.stringValue == "welcome" && m["state"]?.stringValue == "waiting_for_facilitator"
    }

    private func isFullWelcome(_ m: JSON) -> Bool {
        m["type"]?.stringValue == "welcome" && m["state"] == nil && m["seq"] != nil
    }

    @Test func aMemberWhoComesFirstWaitsWithNoRoomAndIsLetInWhenTheFacilitatorArrives() throws {
        let env = try roomServer()
        let m = Participant(env, room: "g1", sub: "m1", name: "Sam", role: .member)
        let waiting = try #require(m.waitFor { isWaiting($0) })
        #expect(isWaiting(waiting))
        #expect(waiting["participant"]?.stringValue == "m1" && waiting["role"]?.stringValue == "member")
        #expect(waiting["snapshot"] == nil && waiting["seq"] == nil)
        let refused = m.request("raise_hand")
        #expect(refused?["type"]?.stringValue == "error")
        #expect(refused?["code"]?.stringValue == "session_not_open")
        env.run(milliseconds: 50)
        #expect(!m.client.tcpClosed)

        let f = Participant(env, room: "g1", sub: "f1", name: "Robin", role: .facilitator)
        let fWelcome = try #require(f.waitFor(type: "welcome"))
        #expect(isFullWelcome(fWelcome))
        let mWelcome = try #require(m.waitFor(type: "welcome"))
        #expect(isFullWelcome(mWelcome))
        let people = mWelcome["snapshot"]?["participants"]?.arrayValue?.compactMap { $0["participant"]?.stringValue }
        #expect(people == ["f1"])  // a welcome lists the others
        #expect(f.waitFor { $0["type"]?.stringValue == "participant_joined" && $0["participant"]?.stringValue == "m1" }
            != nil)
        #expect(m.request("raise_hand")?["type"]?.stringValue == "ack")
        env.shutDown()
    }

    @Test func someoneWhoStopsWaitingIsNotLetIn() throws {
        let env = try roomServer()
        let gone = Participant(env, room: "g2", sub: "m1", name: "A", role: .member)
        #expect(gone.waitFor { isWaiting($0) } != nil)
        let stays = Participant(env, room: "g2", sub: "m2", name: "B", role: .member)
        #expect(stays.waitFor { isWaiting($0) } != nil)
        gone.client.close()
        #expect(env.run { gone.client.tcpClosed })
        let f = Participant(env, room: "g2", sub: "f1", name: "F", role: .facilitator)
        #expect(f.waitFor(type: "welcome") != nil)
        #expect(stays.waitFor(type: "welcome").map(isFullWelcome) == true)
        env.run(milliseconds: 100)
        let joined = f.messages.filter { $0["type"]?.stringValue == "participant_joined" }
            .compactMap { $0["participant"]?.stringValue }
        #expect(joined.filter { $0 != "f1" } == ["m2"])
        env.shutDown()
    }

    @Test func aWaitingMemberIsHeldToTheRateAndAFloodIsClosed() throws {
        let env = try roomServer {
            $0.messagesPerSecond = 5  // bursts of 10
            $0.floodCloseAfter = 30
        }
        let m = Participant(env, room: "g3", sub: "m1", name: "A", role: .member)
        #expect(m.waitFor { isWaiting($0) } != nil)
        for _ in 0..<20 { _ = m.send([("type", "raise_hand")]) }
        #expect(m.waitFor { $0["code"]?.stringValue == "rate_limited" } != nil)
        m.client.sendFrame(.text, Array("{".utf8), fin: false)
        for _ in 0..<40 { m.client.sendFrame(.continuation, Array(" ".utf8), fin: false) }
        #expect(env.run { m.client.serverClose?.code == 1008 || m.client.tcpClosed })
        #expect(m.client.serverClose?.code == 1008)
        env.shutDown()
    }

    @Test func inAPeerLedGroupAnyoneOpensTheSession() throws {
        let env = try roomServer { $0.sessionOpeners = .anyone }
        let m = Participant(env, room: "peer", sub: "m1", name: "A", role: .member)
        #expect(m.waitFor(type: "welcome").map(isFullWelcome) == true)
        env.shutDown()
    }

    @Test func afterTheEndAnOldLinkIsRefusedANewOneWaitsAndTheFacilitatorOpensTheNextSession() throws {
        let env = try roomServer()
        let f = Participant(env, room: "weekly", sub: "f1", name: "F", role: .facilitator)
        #expect(f.waitFor(type: "welcome") != nil)
        let oldToken = token(room: "weekly", sub: "m1", name: "A", role: .member)
        #expect(f.request("end_session")?["type"]?.stringValue == "ack")
        #expect(env.run { f.client.tcpClosed })
        sleep(1)  // a token's iat is in whole seconds: the next one must be issued after the end
        let old = Participant(env, room: "weekly", sub: "m1", token: oldToken)
        #expect(old.waitFor(type: "error")?["code"]?.stringValue == "session_ended")
        #expect(env.run { old.client.serverClose?.code == 4004 })
        let early = Participant(env, room: "weekly", sub: "m1", name: "A", role: .member)
        #expect(early.waitFor { isWaiting($0) } != nil)
        let f2 = Participant(env, room: "weekly", sub: "f1", name: "F", role: .facilitator)
        #expect(f2.waitFor(type: "welcome").map(isFullWelcome) == true)
        #expect(early.waitFor(type: "welcome").map(isFullWelcome) == true)
        env.shutDown()
    }

    @Test func eachSessionIsNumberedAndItsAttendanceKeptInTheStore() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sessions-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try RecordsServer(folder: folder.path)
        let env = server.env, s = server.store
        for week in 1...2 {
            let f = Participant(env, room: "circle-a", sub: "f1", name: "Robin", role: .facilitator)
            #expect(f.waitFor(type: "welcome") != nil)
            let m = Participant(env, room: "circle-a", sub: "m1", name: "Sam", role: .member)
            #expect(m.waitFor(type: "welcome") != nil)
            if week == 1 {
                #expect(f.request("set_phase", [("phase", "sharing")])?["type"]?.stringValue == "ack")
                #expect(m.request("raise_hand")?["type"]?.stringValue == "ack")
                #expect(f.request("give_floor", [("participant", "m1")])?["type"]?.stringValue == "ack")
                env.run(milliseconds: 30)
                #expect(m.request("end_turn")?["type"]?.stringValue == "ack")
                #expect(m.request("private_word")?["type"]?.stringValue == "ack")
            }
            #expect(f.request("end_session")?["type"]?.stringValue == "ack")
            #expect(env.run { f.client.tcpClosed && m.client.tcpClosed })
            s.flush()
            sleep(1)  // the next week's tokens are issued after this session's end
        }
        s.flush()
        #expect(s.waitIdle())
        var sessions: [SessionRecord] = []
        var rows: [AttendanceRecord] = []
        s.sessions(group: "circle-a") { sessions = (try? $0.get()) ?? [] }
        s.attendance(group: "circle-a", sub: nil) { rows = (try? $0.get()) ?? [] }
        #expect(env.run { sessions.count == 2 && !rows.isEmpty })
        #expect(sessions.map(\.number) == [1, 2])
        #expect(sessions.allSatisfy { $0.closedAt != nil })
        let sam = rows.filter { $0.sub == "m1" }.sorted { $0.session < $1.session }
        #expect(sam.map(\.session) == [1, 2])
        #expect(sam.first?.name == "Sam" && sam.first?.role == "member")
        #expect(sam.first?.turns == 1 && sam.first?.handsRaised == 1 && sam.first?.privateSent == 1)
        #expect((sam.first?.spokenMs ?? 0) >= 20)
        #expect(sam.last?.turns == 0 && sam.last?.privateSent == 0)
        #expect(sam.allSatisfy { $0.lastLeave != nil && $0.connectedMs >= 0 })
        #expect(rows.filter { $0.sub == "f1" }.count == 2)
        server.shutDown()
    }
}
