import Testing

@testable import CircleRoom

@Suite("Paced turns")
struct PacingTests {
    static func paced(autoAdvance: Bool, length: Duration = .seconds(120), nudge: Duration = .seconds(30)) -> Harness {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("c", .cofacilitator)
        h.join("a")
        h.join("b")
        h.send("f", .setPhase(.sharing))
        h.send("f", .setPacing(Pacing(turnLength: length, nudgeBefore: nudge, autoAdvance: autoAdvance)))
        return h
    }

    @Test func nudgesReachTheSpeakerAndFacilitatorsAtTheRightInstants() {
        let h = Self.paced(autoAdvance: false)
        h.send("f", .giveFloor(to: "a"))
        #expect(h.events("b").last == .floorGiven("a", turnLength: .seconds(120)))
        let start = h.now
        #expect(h.room.nextDeadline == start + .seconds(90))
        h.clear()
        h.run(until: start + .seconds(89))
        #expect(h.inbox.isEmpty)
        h.run(until: start + .seconds(90))
        let nudge = Outbound.turnNudge(speaker: "a", timeLeft: .seconds(30))
        #expect(h.messages("a") == [nudge])
        #expect(h.messages("f") == [nudge])
        #expect(h.messages("c") == [nudge])
        #expect(h.messages("b").isEmpty, "others see who speaks, not a countdown")
        #expect(h.room.nextDeadline == start + .seconds(120))
    }

    @Test func aTurnRunningOutWithoutAutoAdvanceOnlySaysTimeUp() {
        let h = Self.paced(autoAdvance: false)
        h.send("b", .raiseHand)
        h.send("f", .giveFloor(to: "a"))
        let seq = h.room.seq
        h.clear()
        h.run(until: h.now + .seconds(120))
        #expect(h.messages("a").last == .turnTimeUp(speaker: "a"))
        #expect(h.messages("f").last == .turnTimeUp(speaker: "a"))
        #expect(h.messages("b").isEmpty)
        #expect(h.snapshot.floor == "a")
        #expect(h.room.seq == seq)
        #expect(h.room.nextDeadline == nil)
    }

    @Test func aTurnRunningOutWithAutoAdvanceEndsAndTheNextInQueueSpeaks() {
        let h = Self.paced(autoAdvance: true)
        h.send("b", .raiseHand)
        h.send("f", .giveFloor(to: "a"))
        let start = h.now
        h.run(until: start + .seconds(119))
        #expect(h.snapshot.floor == "a")
        h.run(until: start + .seconds(120))
        #expect(h.messages("a").contains(.turnTimeUp(speaker: "a")))
        #expect(
            h.events("b").suffix(3) == [
                .turnEnded("a", reason: .timeUp), .queueChanged([], policy: .fifo),
                .floorGiven("b", turnLength: .seconds(120)),
            ])
        #expect(h.stats("a")?.spoken == .seconds(120))
        #expect(h.room.nextDeadline == h.now + .seconds(90))
    }

    @Test func aTurnRunningOutInARoundAdvancesTheRound() {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("a")
        h.join("b")
        h.send("f", .setPacing(Pacing(turnLength: .seconds(60), nudgeBefore: .zero, autoAdvance: true)))
        h.send("f", .advanceRound)
        h.advance(.seconds(60))
        #expect(h.snapshot.floor == "b")
        #expect(h.snapshot.round.first == RoundEntry(participant: "a", status: .done))
    }

    @Test func aLateTickFiresTheNudgeBeforeTheTimeUp() {
        let h = Self.paced(autoAdvance: false)
        h.send("f", .giveFloor(to: "a"))
        h.clear()
        h.advance(.seconds(200))
        #expect(h.messages("a") == [.turnNudge(speaker: "a", timeLeft: .zero), .turnTimeUp(speaker: "a")])
    }

    @Test func pacingAppliesToTheNextTurnNotTheCurrentOne() {
        let h = Self.paced(autoAdvance: false)
        h.send("f", .giveFloor(to: "a"))
        let deadline = h.room.nextDeadline
        h.send("f", .setPacing(Pacing(turnLength: .seconds(300), nudgeBefore: .seconds(60))))
        #expect(h.room.nextDeadline == deadline)
        #expect(h.events("b").last == .pacingChanged(Pacing(turnLength: .seconds(300), nudgeBefore: .seconds(60))))
        h.send("f", .giveFloor(to: "b"))
        #expect(h.snapshot.turnLength == .seconds(300))
    }

    @Test func unpacedTurnsHaveNoTimers() {
        let h = Self.paced(autoAdvance: false)
        h.send("f", .setPacing(.unpaced))
        h.send("f", .giveFloor(to: "a"))
        #expect(h.room.nextDeadline == nil)
        #expect(h.events("b").last == .floorGiven("a", turnLength: nil))
    }

    @Test func noNudgeWhenNudgeBeforeIsZero() {
        let h = Self.paced(autoAdvance: false, nudge: .zero)
        h.send("f", .giveFloor(to: "a"))
        #expect(h.room.nextDeadline == h.now + .seconds(120))
    }

    @Test(arguments: [
        Pacing(turnLength: .zero), Pacing(turnLength: .seconds(7200)),
        Pacing(turnLength: .seconds(30), nudgeBefore: .seconds(30)),
        Pacing(turnLength: .seconds(30), nudgeBefore: .seconds(-1)),
    ])
    func pacingOutOfRangeIsInvalid(pacing: Pacing) {
        let h = Self.paced(autoAdvance: false)
        let before = h.snapshot.pacing
        h.send("f", .setPacing(pacing))
        #expect(h.errors("f") == [.invalid])
        #expect(h.snapshot.pacing == before)
    }

    @Test func turnTimeLeftIsInTheWelcomeOnlyForTheSpeakerAndFacilitators() throws {
        let h = Self.paced(autoAdvance: false)
        h.send("f", .giveFloor(to: "a"))
        h.wait(.seconds(20))
        h.send(on: h.connection("a"), .media(mic: true, camera: nil))
        let speaker = h.join("a", resumeFrom: h.room.seq)
        let facilitator = h.join("c", .cofacilitator, resumeFrom: h.room.seq)
        let member = h.join("b", resumeFrom: h.room.seq)
        #expect(h.welcome(on: speaker)?.timeLeft.turn == .seconds(100))
        #expect(h.welcome(on: facilitator)?.timeLeft.turn == .seconds(100))
        #expect(h.welcome(on: member)?.timeLeft.turn == nil)
        #expect(h.welcome(on: member)?.timeLeft.silence == nil)
    }
}
