import Testing

@testable import CircleRoom

@Suite("Speaking queue")
struct QueueTests {
    static func sharing(_ members: [String] = ["a", "b", "c"]) -> Harness {
        let h = Harness()
        h.join("f", .facilitator)
        for member in members { h.join(member) }
        h.send("f", .setPhase(.sharing))
        return h
    }

    @Test func fifoByDefault() {
        let h = Self.sharing()
        h.send("c", .raiseHand)
        h.send("a", .raiseHand)
        h.send("b", .raiseHand)
        #expect(h.snapshot.queue == ["c", "a", "b"])
        #expect(h.events("f").last == .queueChanged(["c", "a", "b"], policy: .fifo))
    }

    @Test func raisingTwiceIsANoOpAndLoweringLeavesTheQueue() {
        let h = Self.sharing()
        h.send("a", .raiseHand)
        let seq = h.room.seq
        h.send("a", .raiseHand)
        #expect(h.room.seq == seq)
        #expect(h.acks("a") == 2)
        h.send("a", .lowerHand)
        #expect(h.snapshot.queue.isEmpty)
        h.send("a", .lowerHand)
        #expect(h.errors("a").isEmpty)
    }

    @Test func theSpeakerCannotRaiseTheirHand() {
        let h = Self.sharing()
        h.send("f", .giveFloor(to: "a"))
        h.send("a", .raiseHand)
        #expect(h.errors("a") == [.conflict])
    }

    @Test func giveFloorToNextTakesTheHeadOfTheQueue() {
        let h = Self.sharing()
        h.send("b", .raiseHand)
        h.send("a", .raiseHand)
        h.send("f", .giveFloor(to: nil))
        #expect(h.snapshot.floor == "b")
        #expect(h.snapshot.queue == ["a"])
        h.send("f", .giveFloor(to: nil))
        #expect(h.snapshot.floor == "a")
        #expect(h.events("f").contains(.turnEnded("b", reason: .facilitator)))
        h.send("f", .giveFloor(to: nil))
        #expect(h.errors("f") == [.notFound])
        #expect(h.snapshot.floor == "a")
    }

    @Test func giveFloorToAnyone() {
        let h = Self.sharing()
        h.send("a", .raiseHand)
        h.send("f", .giveFloor(to: "c"))
        #expect(h.snapshot.floor == "c")
        #expect(h.snapshot.queue == ["a"])
        h.send("f", .giveFloor(to: "c"))
        #expect(h.errors("f") == [.conflict])
    }

    @Test func giveFloorToSomeoneAbsentOrAnObserverIsRefused() {
        let h = Self.sharing()
        h.join("o", .observer)
        h.send("f", .giveFloor(to: "nobody"))
        h.send("f", .giveFloor(to: "o"))
        h.drop("a")
        h.send("f", .giveFloor(to: "a"))
        #expect(h.errors("f") == [.notFound, .invalid, .reconnecting])
        #expect(h.snapshot.floor == nil)
    }

    @Test func giveFloorToTheQueueWhenEveryoneInItIsReconnectingIsReconnecting() {
        let h = Self.sharing()
        h.send("f", .giveFloor(to: nil))
        h.send("a", .raiseHand)
        h.drop("a")
        h.send("f", .giveFloor(to: nil))
        #expect(h.errors("f") == [.notFound, .reconnecting])
        #expect(h.snapshot.floor == nil)
    }

    @Test func leastSpokenPolicyPutsThoseWhoSpokeLeastFirst() {
        let h = Self.sharing()
        h.send("f", .giveFloor(to: "a"))
        h.advance(.seconds(60))
        h.send("f", .giveFloor(to: "b"))
        h.advance(.seconds(20))
        h.send("b", .endTurn)
        h.send("f", .setQueuePolicy(.leastSpoken))
        h.send("a", .raiseHand)
        h.send("b", .raiseHand)
        h.send("c", .raiseHand)
        #expect(h.snapshot.queue == ["c", "b", "a"])
        #expect(h.events("f").last == .queueChanged(["c", "b", "a"], policy: .leastSpoken))
    }

    @Test func leastSpokenTiesAreFirstComeFirstServed() {
        let h = Self.sharing(["a", "b", "c", "d"])
        h.send("f", .setQueuePolicy(.leastSpoken))
        h.send("c", .raiseHand)
        h.send("a", .raiseHand)
        h.send("d", .raiseHand)
        #expect(h.snapshot.queue == ["c", "a", "d"])
    }

    @Test func switchingToLeastSpokenReordersTheQueueAndBackKeepsIt() {
        let h = Self.sharing()
        h.send("f", .giveFloor(to: "a"))
        h.advance(.seconds(30))
        h.send("a", .endTurn)
        h.send("a", .raiseHand)
        h.send("b", .raiseHand)
        #expect(h.snapshot.queue == ["a", "b"])
        h.send("f", .setQueuePolicy(.leastSpoken))
        #expect(h.snapshot.queue == ["b", "a"])
        #expect(h.snapshot.queuePolicy == .leastSpoken)
        h.send("f", .setQueuePolicy(.fifo))
        #expect(h.snapshot.queue == ["b", "a"])
        let seq = h.room.seq
        h.send("f", .setQueuePolicy(.fifo))
        #expect(h.room.seq == seq)
    }

    @Test func moveWithinTheQueue() {
        let h = Self.sharing()
        for member in ["a", "b", "c"] { h.send(member, .raiseHand) }
        h.send("f", .moveInQueue("c", to: 0))
        #expect(h.snapshot.queue == ["c", "a", "b"])
        h.send("f", .moveInQueue("c", to: 2))
        #expect(h.snapshot.queue == ["a", "b", "c"])
        let seq = h.room.seq
        h.send("f", .moveInQueue("a", to: 3))
        h.send("f", .moveInQueue("a", to: -1))
        h.send("f", .moveInQueue("zz", to: 0))
        #expect(h.errors("f") == [.invalid, .invalid, .notFound])
        #expect(h.room.seq == seq)
    }

    @Test func removeFromTheQueue() {
        let h = Self.sharing()
        h.send("a", .raiseHand)
        h.send("b", .raiseHand)
        h.send("f", .removeFromQueue("a"))
        #expect(h.snapshot.queue == ["b"])
        h.send("f", .removeFromQueue("a"))
        #expect(h.errors("f") == [.notFound])
    }

    @Test func clearTheQueueLowersAllHands() {
        let h = Self.sharing()
        h.send("a", .raiseHand)
        h.send("b", .raiseHand)
        h.send("f", .clearQueue)
        #expect(h.snapshot.queue.isEmpty)
        #expect(h.events("a").last == .queueChanged([], policy: .fifo))
        let seq = h.room.seq
        h.send("f", .clearQueue)
        #expect(h.room.seq == seq)
    }

    @Test func withAutoAdvanceAnEndedTurnPassesTheFloorToTheNextInQueue() {
        let h = Self.sharing()
        h.send("f", .setPacing(Pacing(turnLength: .seconds(60), nudgeBefore: .seconds(10), autoAdvance: true)))
        h.send("b", .raiseHand)
        h.send("f", .giveFloor(to: "a"))
        h.send("a", .endTurn)
        #expect(h.snapshot.floor == "b")
    }

    @Test func withoutAutoAdvanceTheFloorStaysFreeAfterATurn() {
        let h = Self.sharing()
        h.send("b", .raiseHand)
        h.send("f", .giveFloor(to: "a"))
        h.send("a", .endTurn)
        #expect(h.snapshot.floor == nil)
        #expect(h.snapshot.queue == ["b"])
    }

    @Test func endTurnRules() {
        let h = Self.sharing()
        h.send("a", .endTurn)
        #expect(h.errors("a") == [.conflict])
        h.send("f", .giveFloor(to: "a"))
        h.send("b", .endTurn)
        #expect(h.errors("b") == [.forbidden])
        #expect(h.snapshot.floor == "a")
        h.send("f", .endTurn)
        #expect(h.snapshot.floor == nil)
        #expect(h.events("b").last == .turnEnded("a", reason: .facilitator))
    }

    @Test func speakingTimeAndTurnsAreKeptAndVisibleToFacilitators() {
        let h = Self.sharing()
        h.send("f", .giveFloor(to: "a"))
        h.advance(.seconds(40))
        h.send("a", .endTurn)
        h.send("f", .giveFloor(to: "a"))
        h.advance(.seconds(5))
        h.send("f", .giveFloor(to: "b"))
        h.advance(.seconds(7))
        h.send("f", .requestStats)
        let expected: [SpeakingStats] = [
            SpeakingStats(participant: "f"),
            SpeakingStats(participant: "a", turns: 2, spoken: .seconds(45)),
            SpeakingStats(participant: "b", turns: 1, spoken: .seconds(7)),
            SpeakingStats(participant: "c"),
        ]
        #expect(h.messages("f").contains(.stats(expected)))
        h.send("a", .requestStats)
        #expect(h.errors("a") == [.forbidden])
    }

    @Test func statsSurviveLeavingAndRejoining() {
        let h = Self.sharing()
        h.send("f", .giveFloor(to: "a"))
        h.advance(.seconds(40))
        h.send("a", .leave)
        h.join("a")
        #expect(h.stats("a") == SpeakingStats(participant: "a", turns: 1, spoken: .seconds(40)))
    }
}
