import Testing

@testable import CircleRoom

@Suite("Intro and closing rounds")
struct RoundTests {
    static func introWithThreeMembers() -> Harness {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("a")
        h.join("b")
        h.join("c")
        return h
    }

    static func entries(_ list: [(String, RoundStatus)]) -> [RoundEntry] {
        list.map { RoundEntry(participant: $0.0, status: $0.1) }
    }

    @Test func membersJoinTheIntroRoundInJoinOrderAndTheFacilitatorStartsIt() {
        let h = Self.introWithThreeMembers()
        #expect(h.snapshot.round == Self.entries([("a", .waiting), ("b", .waiting), ("c", .waiting)]))
        #expect(h.snapshot.floor == nil)
        h.send("f", .advanceRound)
        #expect(h.snapshot.floor == "a")
    }

    @Test func aTurnEndingAdvancesTheRound() {
        let h = Self.introWithThreeMembers()
        h.send("f", .advanceRound)
        h.send("a", .endTurn)
        #expect(h.snapshot.floor == "b")
        #expect(h.snapshot.round == Self.entries([("a", .done), ("b", .waiting), ("c", .waiting)]))
    }

    @Test func aPassedTurnCountsAsNoTimeSpokenSoLeastSpokenPutsThePasserFirst() {
        let h = Self.introWithThreeMembers()
        h.send("f", .advanceRound)
        h.advance(.seconds(5))
        h.send("a", .endTurn)
        h.advance(.seconds(5))
        h.send("b", .pass)
        #expect(h.stats("a")?.spoken == .seconds(5))
        #expect(h.stats("b")?.spoken == .zero)
        #expect(h.stats("b")?.passes == 1)
        h.send("f", .setPhase(.sharing))
        h.send("f", .setQueuePolicy(.leastSpoken))
        h.send("a", .raiseHand)
        h.send("b", .raiseHand)
        #expect(h.snapshot.queue == ["b", "a"])
    }

    /// However long a passer held the floor first, none of it is speaking time: not in the stats, not when switching
    /// to `least_spoken` re-sorts a queue already raised.
    @Test func aLongHeldFloorThenPassedIsNoTimeSpokenWhenLeastSpokenReSorts() {
        let h = Self.introWithThreeMembers()
        h.send("f", .advanceRound)
        h.advance(.seconds(5))
        h.send("a", .endTurn)
        h.advance(.seconds(90))
        h.send("b", .pass)
        #expect(h.stats("b")?.spoken == .zero)
        #expect(h.stats("b")?.passes == 1)
        #expect(h.room.speakingStats().first { $0.participant == "b" }?.spoken == .zero)
        #expect(h.snapshot.floor == "c")
        h.advance(.seconds(30))
        h.send("c", .endTurn)
        h.send("f", .setPhase(.sharing))
        h.send("a", .raiseHand)
        h.send("c", .raiseHand)
        h.send("b", .raiseHand)
        #expect(h.snapshot.queue == ["a", "c", "b"])
        h.send("f", .setQueuePolicy(.leastSpoken))
        #expect(h.snapshot.queue == ["b", "a", "c"], "b spoke not at all, a for 5 s, c for 30 s")
    }

    @Test func introRoundWithAPassAndALateJoinerAppended() {
        let h = Self.introWithThreeMembers()
        h.send("f", .advanceRound)
        h.send("a", .endTurn)
        h.send("b", .pass)
        #expect(h.snapshot.floor == "c")
        h.join("d")
        #expect(h.snapshot.round.last == RoundEntry(participant: "d", status: .waiting))
        h.send("f", .advanceRound)
        #expect(h.snapshot.floor == "d")
        h.send("d", .endTurn)
        #expect(h.snapshot.floor == nil)
        #expect(
            h.snapshot.round == Self.entries([("a", .done), ("b", .passed), ("c", .done), ("d", .done)]))
        #expect(h.stats("b")?.passes == 1)
        #expect(h.events("f").contains(.turnEnded("b", reason: .passed)))
        h.send("f", .advanceRound)
        #expect(h.errors("f") == [.conflict], "the round is complete")
    }

    @Test func aMemberMayPassBeforeTheirTurnAndIsSkipped() {
        let h = Self.introWithThreeMembers()
        h.send("b", .pass)
        #expect(h.snapshot.round[1] == RoundEntry(participant: "b", status: .passed))
        h.send("f", .advanceRound)
        h.send("a", .endTurn)
        #expect(h.snapshot.floor == "c")
        h.send("b", .pass)
        #expect(h.errors("b") == [.conflict])
    }

    @Test func passOutsideARoundIsWrongPhase() {
        let h = Self.introWithThreeMembers()
        h.send("f", .setPhase(.sharing))
        h.send("a", .pass)
        #expect(h.errors("a") == [.wrongPhase])
    }

    @Test func theRoundSkipsSomeoneReconnectingAndPicksThemUpWhenBack() {
        let h = Self.introWithThreeMembers()
        h.drop("b")
        h.send("f", .advanceRound)
        h.send("a", .endTurn)
        #expect(h.snapshot.floor == "c")
        h.join("b", resumeFrom: h.room.seq)
        h.send("c", .endTurn)
        #expect(h.snapshot.floor == "b")
    }

    @Test func facilitatorAdvanceEndsTheCurrentTurnAsDone() {
        let h = Self.introWithThreeMembers()
        h.send("f", .advanceRound)
        h.send("f", .advanceRound)
        #expect(h.snapshot.floor == "b")
        #expect(h.events("f").contains(.turnEnded("a", reason: .facilitator)))
        #expect(h.snapshot.round[0].status == .done)
    }

    @Test func advanceRoundOutsideARoundIsWrongPhase() {
        let h = Self.introWithThreeMembers()
        h.send("f", .setPhase(.sharing))
        h.send("f", .advanceRound)
        #expect(h.errors("f") == [.wrongPhase])
    }

    @Test func closingRoundIsBuiltFromTheMembersPresentAndClearedWhenBackToSharing() {
        let h = Self.introWithThreeMembers()
        h.send("f", .setPhase(.sharing))
        #expect(h.snapshot.round.isEmpty)
        h.drop("c")
        h.send("f", .setPhase(.close))
        #expect(h.snapshot.round == Self.entries([("a", .waiting), ("b", .waiting), ("c", .waiting)]))
        h.join("e")
        #expect(h.snapshot.round.last?.participant == "e", "late joiners are appended in close too")
        h.send("f", .setPhase(.sharing))
        #expect(h.snapshot.round.isEmpty)
    }

    @Test func aSilenceDuringTheIntroKeepsTheRound() {
        let h = Self.introWithThreeMembers()
        h.send("f", .advanceRound)
        h.send("a", .endTurn)
        h.send("f", .startSilence(.seconds(20)))
        h.join("d")
        h.advance(.seconds(20))
        #expect(h.room.phase == .intro)
        #expect(
            h.snapshot.round
                == Self.entries([("a", .done), ("b", .waiting), ("c", .waiting), ("d", .waiting)]))
        #expect(h.snapshot.floor == nil, "the round waits for the facilitator after a silence")
    }

    @Test func leavingTakesYouOutOfTheRoundAndASpeakerLeavingAdvancesIt() {
        let h = Self.introWithThreeMembers()
        h.send("f", .advanceRound)
        h.send("a", .leave)
        #expect(h.snapshot.floor == "b")
        #expect(h.snapshot.round.map(\.participant) == ["b", "c"])
    }
}
