import Testing

@testable import CircleRoom

@Suite("Presence, grace and resume")
struct ResumeTests {
    @Test func aDropIsNotALeaveTheSeatShowsReconnecting() {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("a")
        h.send("a", .raiseHand)
        h.drop("a")
        #expect(h.view("a")?.connection == .reconnecting)
        #expect(h.events("f").last == .connectionChanged("a", .reconnecting))
        #expect(h.snapshot.queue == ["a"])
        #expect(h.room.nextDeadline == h.now + .seconds(30))
    }

    @Test func graceEndingMakesTheParticipantLeave() {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("a")
        h.join("b")
        h.send("a", .raiseHand)
        h.send("b", .raiseHand)
        h.drop("a")
        h.advance(.seconds(29))
        #expect(h.view("a") != nil)
        h.advance(.seconds(1))
        #expect(h.view("a") == nil)
        #expect(h.snapshot.queue == ["b"])
        let tail = Array(h.events("f").suffix(3))
        #expect(
            tail == [
                .queueChanged(["b"], policy: .fifo), .roundChanged([RoundEntry(participant: "b", status: .waiting)]),
                .participantLeft("a", reason: .timedOut),
            ])
    }

    @Test func reconnectAtTheExactGraceDeadlineBeforeTickResumes() {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("a")
        h.send("a", .raiseHand)
        h.drop("a")
        h.wait(.seconds(30))
        #expect(h.room.nextDeadline == h.now)
        let (_, outcome) = h.joinOutcome("a", resumeFrom: 0)
        #expect(outcome == .resumed)
        h.tick()
        #expect(h.view("a")?.connection == .connected)
        #expect(h.snapshot.queue == ["a"])
    }

    @Test func tickAtTheGraceDeadlineBeforeTheReconnectEndsTheSeat() {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("a")
        h.send("a", .raiseHand)
        h.drop("a")
        h.advance(.seconds(30))
        let (_, outcome) = h.joinOutcome("a", resumeFrom: 0)
        #expect(outcome == .joined)
        #expect(h.snapshot.queue.isEmpty)
    }

    @Test func aLateReconnectWithoutATickStillFindsTheGraceOver() {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("a")
        h.drop("a")
        h.wait(.seconds(31))
        let (connection, outcome) = h.joinOutcome("a", resumeFrom: 0)
        #expect(outcome == .joined)
        #expect(h.welcome(on: connection)?.resumed == false)
        let left = h.events("f").firstIndex(of: .participantLeft("a", reason: .timedOut))
        let joined = h.events("f").lastIndex { if case .participantJoined(let v) = $0 { v.id == "a" } else { false } }
        #expect(left != nil && joined != nil && left! < joined!)
    }

    @Test func zeroGraceMeansADropIsALeave() {
        let h = Harness(config: RoomConfig(grace: .zero))
        h.join("f", .facilitator)
        h.join("a")
        h.drop("a")
        #expect(h.view("a") == nil)
        #expect(h.events("f").last == .participantLeft("a", reason: .timedOut))
    }

    @Test func resumeReplaysTheMissedEventsInOrder() throws {
        let h = Harness()
        h.join("f", .facilitator)
        let a = h.join("a")
        h.join("b")
        let before = try #require(Mirror(h.messages(on: a)))
        h.drop("a")
        h.send("b", .raiseHand)
        h.send("f", .setPhase(.sharing))
        let missedFrom = before.seq
        let (again, outcome) = h.joinOutcome("a", resumeFrom: missedFrom)
        #expect(outcome == .resumed)
        let welcome = try #require(h.welcome(on: again))
        #expect(welcome.resumed)
        guard case .replay(let events) = welcome.catchUp else { Issue.record("expected a replay"); return }
        #expect(events.map(\.seq) == Array((missedFrom + 1)...welcome.seq))
        #expect(events.first?.event == .connectionChanged("a", .reconnecting))
        // After the welcome comes its own reconnect event.
        #expect(h.events(on: again).map(\.event) == [.connectionChanged("a", .connected)])
        let mirror = try #require(Mirror(h.messages(on: again), base: before))
        #expect(mirror.gaps.isEmpty)
        #expect(mirror.view == h.snapshot)
    }

    @Test func resumeFromASeqThatLeftTheLogGetsAFreshSnapshot() throws {
        let h = Harness(config: RoomConfig(logCapacity: 4))
        h.join("f", .facilitator)
        h.join("a")
        h.drop("a")
        for _ in 0..<3 {
            h.send("f", .lock)
            h.send("f", .unlock)
        }
        let (again, outcome) = h.joinOutcome("a", resumeFrom: 2)
        #expect(outcome == .resumed)
        let welcome = try #require(h.welcome(on: again))
        #expect(welcome.resumed)
        guard case .snapshot(let snapshot) = welcome.catchUp else { Issue.record("expected a snapshot"); return }
        #expect(snapshot.participants.first { $0.id == "a" }?.connection == .reconnecting)
        let mirror = try #require(Mirror(h.messages(on: again)))
        #expect(mirror.view == h.snapshot)
    }

    @Test func resumeFromTheFutureGetsAFreshSnapshot() throws {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("a")
        h.drop("a")
        let (again, _) = h.joinOutcome("a", resumeFrom: 999)
        let welcome = try #require(h.welcome(on: again))
        guard case .snapshot = welcome.catchUp else { Issue.record("expected a snapshot"); return }
    }

    @Test func resumeWithoutASeqGetsASnapshot() throws {
        let h = Harness()
        h.join("a")
        h.drop("a")
        let (again, _) = h.joinOutcome("a")
        guard case .snapshot = try #require(h.welcome(on: again)).catchUp else {
            Issue.record("expected a snapshot")
            return
        }
    }

    @Test func droppedConnectionResumesWithoutLosingQueuePlaceMuteOrRole() {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("a")
        h.join("b")
        h.send("f", .setPhase(.sharing))
        h.send("a", .raiseHand)
        h.send("b", .raiseHand)
        h.send("f", .mute("a"))
        h.send("f", .promote("b"))
        h.drop("a")
        h.drop("b")
        h.wait(.seconds(20))
        h.join("a", resumeFrom: 0)
        h.join("b", resumeFrom: 0)
        #expect(h.snapshot.queue == ["a", "b"])
        #expect(h.view("a")?.muted == true)
        #expect(h.view("b")?.role == .cofacilitator)
    }

    @Test func theSpeakerKeepsTheFloorWhileReconnecting() {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("a")
        h.send("f", .setPhase(.sharing))
        h.send("f", .giveFloor(to: "a"))
        h.drop("a")
        #expect(h.snapshot.floor == "a")
        h.advance(.seconds(30))
        #expect(h.snapshot.floor == nil)
        #expect(h.events("f").contains(.turnEnded("a", reason: .left)))
    }

    @Test func queueHeadThatIsReconnectingIsSkippedButKeepsItsPlace() {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("a")
        h.join("b")
        h.send("f", .setPhase(.sharing))
        h.send("a", .raiseHand)
        h.send("b", .raiseHand)
        h.drop("a")
        h.send("f", .giveFloor(to: nil))
        #expect(h.snapshot.floor == "b")
        #expect(h.snapshot.queue == ["a"])
    }

    @Test func clockNeverRunsBackwards() {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("a")
        h.drop("a")
        let deadline = h.room.nextDeadline
        h.room.tick(now: .seconds(1))
        #expect(h.room.nextDeadline == deadline)
        #expect(h.view("a") != nil)
    }

    @Test func gracesEndingAtTheSameInstantFireInParticipantIdOrder() {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("z")
        h.join("m")
        h.drop("z")
        h.drop("m")
        h.advance(.seconds(30))
        let left = h.events("f").filter { if case .participantLeft = $0 { true } else { false } }
        #expect(left == [.participantLeft("m", reason: .timedOut), .participantLeft("z", reason: .timedOut)])
    }

    @Test func aCommandArrivingExactlyAtADeadlineIsHandledBeforeTheDeadlineFires() {
        let h = Harness()
        h.join("f", .facilitator)
        h.send("f", .setPhase(.sharing))
        h.send("f", .startSilence(.seconds(10)))
        h.wait(.seconds(10))
        h.send("f", .giveFloor(to: "f"))
        #expect(h.errors("f") == [.wrongPhase], "still silence until tick")
        h.tick()
        #expect(h.room.phase == .sharing)
        h.wait(.seconds(1))
        h.send("f", .startSilence(.seconds(5)))
        h.wait(.seconds(6))
        h.send("f", .giveFloor(to: "f"))
        #expect(h.snapshot.floor == "f", "an overdue silence ends before a later command")
    }
}
