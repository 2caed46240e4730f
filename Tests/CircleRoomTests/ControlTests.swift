import Testing

@testable import CircleRoom

@Suite("Facilitator controls and permissions")
struct ControlTests {
    static func sharing() -> Harness {
        let h = Harness.fullRoom()
        h.send("f", .setPhase(.sharing))
        return h
    }

    static let facilitatorCommands: [Command] = [
        .setPhase(.close), .advanceRound, .startSilence(.seconds(30)), .endSilence, .giveFloor(to: nil),
        .giveFloor(to: "b"), .moveInQueue("b", to: 0), .removeFromQueue("b"), .clearQueue,
        .setQueuePolicy(.leastSpoken), .setPacing(Pacing(turnLength: .seconds(60))), .mute("b"), .unmute("b"),
        .muteAllButSpeaker, .lock, .unlock, .remove("b"), .promote("b"), .endSession, .requestStats,
        .privateWordSeen("a"),
    ]

    @Test func everyFacilitatorCommandIsCoveredByTheList() {
        let all = Set(Self.facilitatorCommands.map(\.wireName))
        #expect(all.count == 20)
        #expect(Self.facilitatorCommands.allSatisfy { $0.permission == .facilitator })
    }

    @Test(arguments: facilitatorCommands)
    func aMemberSendingAFacilitatorCommandIsForbiddenAndNothingChanges(command: Command) {
        let h = Self.sharing()
        h.send("b", .raiseHand)
        h.send("f", .mute("a"))
        h.send("a", .raiseHand)
        let before = h.room.state
        h.clear()
        h.send("a", command)
        #expect(h.messages("a") == [.error("r", .forbidden, message: ErrorCode.forbidden.defaultMessage)])
        #expect(h.room.state == before)
        #expect(h.messages("b").isEmpty)
    }

    @Test(arguments: facilitatorCommands + [.raiseHand, .lowerHand, .pass, .endTurn, .media(mic: true, camera: nil),
        .reaction(.nod), .privateWord(text: nil)])
    func anObserverCanDoNothingButSignalAndLeave(command: Command) {
        let h = Self.sharing()
        let before = h.room.state
        h.clear()
        h.send("o", command)
        #expect(h.errors("o") == [.forbidden])
        #expect(h.room.state == before)
    }

    @Test func muteIsHeldSeenByEveryoneAndSentAsAnInstruction() {
        let h = Self.sharing()
        h.send("a", .media(mic: true, camera: true))
        h.clear()
        h.send("f", .mute("a"))
        #expect(h.view("a")?.muted == true)
        #expect(h.events("b") == [.muteChanged(["a"], muted: true)])
        #expect(h.messages("a").contains(.muteRequest(.facilitator)))
        #expect(!h.messages("b").contains(.muteRequest(.facilitator)))
    }

    @Test func aMemberHeldMutedCannotUnmuteThemselves() {
        let h = Self.sharing()
        h.send("f", .mute("a"))
        h.send("a", .media(mic: false, camera: nil))
        let seq = h.room.seq
        h.send("a", .media(mic: true, camera: nil))
        #expect(h.errors("a") == [.muted])
        #expect(h.view("a")?.mic == false)
        #expect(h.room.seq == seq)
        h.send("a", .media(mic: nil, camera: true))
        #expect(h.view("a")?.camera == true, "the camera is theirs")
    }

    @Test func unmuteLiftsTheHold() {
        let h = Self.sharing()
        h.send("f", .mute("a"))
        h.send("c", .unmute("a"))
        #expect(h.view("a")?.muted == false)
        h.send("a", .media(mic: true, camera: nil))
        #expect(h.view("a")?.mic == true)
        #expect(h.errors("a").isEmpty)
    }

    @Test func givingTheFloorLiftsTheMute() {
        let h = Self.sharing()
        h.send("f", .mute("a"))
        h.send("f", .giveFloor(to: "a"))
        #expect(h.view("a")?.muted == false)
        #expect(h.events("b").suffix(2) == [.muteChanged(["a"], muted: false), .floorGiven("a", turnLength: nil)])
    }

    @Test func muteAllButTheSpeakerMutesEveryoneOfLowerRankInOneEvent() {
        let h = Self.sharing()
        h.send("f", .giveFloor(to: "a"))
        h.clear()
        h.send("f", .muteAllButSpeaker)
        #expect(h.events("b") == [.muteChanged(["c", "b"], muted: true)])
        #expect(h.view("a")?.muted == false)
        #expect(h.view("f")?.muted == false)
        #expect(h.messages("b").contains(.muteRequest(.facilitator)))
        #expect(h.messages("c").contains(.muteRequest(.facilitator)))
        #expect(!h.messages("a").contains(.muteRequest(.facilitator)))
    }

    @Test func aCofacilitatorCannotActOnAFacilitator() {
        let h = Self.sharing()
        h.send("c", .mute("f"))
        h.send("c", .remove("f"))
        #expect(h.errors("c") == [.forbidden, .forbidden])
        h.send("c", .muteAllButSpeaker)
        #expect(h.view("f")?.muted == false)
        #expect(h.view("a")?.muted == true)
    }

    @Test func muteTargetsMustExistAndHaveAMic() {
        let h = Self.sharing()
        h.send("f", .mute("nobody"))
        h.send("f", .mute("o"))
        #expect(h.errors("f") == [.notFound, .invalid])
    }

    @Test func removeClosesTheConnectionWithAClearCodeAndTakesThemOutOfEverything() {
        let h = Self.sharing()
        let a = h.connection("a")
        h.send("a", .raiseHand)
        h.send("f", .remove("a"))
        #expect(h.closes[a]?.code == CloseCode.removed)
        #expect(h.messages(on: a).last == .error(nil, .removed, message: "removed from this session by a facilitator"))
        #expect(h.view("a") == nil)
        #expect(h.snapshot.queue.isEmpty)
        #expect(h.events("b").last == .participantLeft("a", reason: .removed))
        #expect(!h.events(on: a).map(\.event).contains(.participantLeft("a", reason: .removed)))
    }

    @Test func removeSomeoneReconnectingAndRemoveChecks() {
        let h = Self.sharing()
        h.drop("a")
        h.send("f", .remove("a"))
        #expect(h.view("a") == nil)
        #expect(h.joinOutcome("a").1 == .refused(.removed))
        h.send("f", .remove("f"))
        h.send("f", .remove("zz"))
        #expect(h.errors("f") == [.invalid, .notFound])
        h.send("f", .remove("o"))
        #expect(h.view("o") == nil)
    }

    @Test func promoteMakesAMemberACofacilitatorWhoCanThenUseControls() {
        let h = Self.sharing()
        h.send("f", .promote("a"))
        #expect(h.events("b").last == .roleChanged("a", .cofacilitator))
        h.send("a", .lock)
        #expect(h.snapshot.locked)
        h.send("f", .promote("a"))
        h.send("f", .promote("o"))
        h.send("f", .promote("zz"))
        #expect(h.errors("f") == [.conflict, .invalid, .notFound])
    }

    @Test func lockAndUnlockAreEventsAndRepeatsAreNoOps() {
        let h = Self.sharing()
        h.send("c", .lock)
        #expect(h.events("a").last == .lockChanged(locked: true))
        let seq = h.room.seq
        h.send("c", .lock)
        #expect(h.room.seq == seq)
        #expect(h.acks("c") == 2)
    }

    @Test func requestsWithoutAnIdGetNoAckButErrorsStillArrive() {
        let h = Self.sharing()
        h.send("a", .raiseHand, id: nil)
        #expect(h.acks("a") == 0)
        h.send("a", .lock, id: nil)
        #expect(h.messages("a").last == .error(nil, .forbidden, message: ErrorCode.forbidden.defaultMessage))
    }

    @Test func theAckFollowsTheEventsItCaused() {
        let h = Self.sharing()
        h.clear()
        h.send("a", .raiseHand, id: "42")
        guard h.messages("a").count == 2 else { Issue.record("expected event then ack"); return }
        if case .event = h.messages("a")[0] {} else { Issue.record("event first") }
        #expect(h.messages("a")[1] == .ack("42"))
    }
}
