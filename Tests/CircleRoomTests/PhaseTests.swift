import Testing

@testable import CircleRoom

@Suite("Phases")
struct PhaseTests {
    /// A room in `phase` with a facilitator "f" and member "a".
    static func room(in phase: Phase, silenceFrom origin: Phase = .sharing) -> Harness {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("a")
        switch phase {
        case .intro: break
        case .sharing: h.send("f", .setPhase(.sharing))
        case .close:
            h.send("f", .setPhase(.sharing))
            h.send("f", .setPhase(.close))
        case .silence:
            if origin != .intro { h.send("f", .setPhase(.sharing)) }
            if origin == .close { h.send("f", .setPhase(.close)) }
            h.send("f", .startSilence(.seconds(60)))
        case .ended:
            h.send("f", .endSession)
        }
        #expect(h.room.phase == phase)
        return h
    }

    static let allowed: [(Phase, Phase)] = [
        (.intro, .sharing),
        (.sharing, .close),
        (.silence, .sharing), (.silence, .close),
        (.close, .sharing),
    ]

    /// (`ended` is not a `set_phase` target: see `EndTests`.)
    @Test(arguments: [Phase.intro, .sharing, .silence, .close], [Phase.intro, .sharing, .close])
    func setPhaseFollowsTheTable(from: Phase, to: Phase) {
        let h = Self.room(in: from)
        let seq = h.room.seq
        h.send("f", .setPhase(to))
        let expected = Self.allowed.contains { $0 == (from, to) }
        if expected {
            #expect(h.room.phase == to)
            #expect(h.errors("f").isEmpty)
        } else {
            #expect(h.room.phase == from)
            #expect(h.errors("f") == [.wrongPhase])
            #expect(h.room.seq == seq)
        }
    }

    @Test(arguments: [Phase.intro, .sharing, .close])
    func silenceMayStartFromIntroSharingOrCloseAndReturnsThere(origin: Phase) {
        let h = Self.room(in: .silence, silenceFrom: origin)
        #expect(h.snapshot.silenceReturnsTo == origin)
        h.advance(.seconds(60))
        #expect(h.room.phase == origin)
        #expect(h.snapshot.silenceReturnsTo == nil)
    }

    @Test func setPhaseToSilenceIsInvalidStartSilenceIsTheWay() {
        let h = Self.room(in: .sharing)
        h.send("f", .setPhase(.silence))
        #expect(h.errors("f") == [.invalid])
        #expect(h.room.phase == .sharing)
    }

    @Test func silenceCannotStartDuringSilence() {
        let h = Self.room(in: .silence)
        h.send("f", .startSilence(.seconds(10)))
        #expect(h.errors("f") == [.wrongPhase])
    }

    @Test(arguments: [Duration.zero, .milliseconds(999), .seconds(3601), .seconds(-5)])
    func silenceLengthOutOfRangeIsInvalid(length: Duration) {
        let h = Self.room(in: .sharing)
        h.send("f", .startSilence(length))
        #expect(h.errors("f") == [.invalid])
        #expect(h.room.phase == .sharing)
    }

    @Test func silenceEndsByItselfAtItsDeadline() {
        let h = Self.room(in: .sharing)
        h.send("f", .startSilence(.seconds(90)))
        #expect(h.events("a").last == .phaseChanged(.silence, silence: .seconds(90), returnsTo: .sharing))
        #expect(h.room.nextDeadline == h.now + .seconds(90))
        h.advance(.seconds(89))
        #expect(h.room.phase == .silence)
        h.advance(.seconds(1))
        #expect(h.room.phase == .sharing)
        #expect(h.events("a").last == .phaseChanged(.sharing, silence: nil))
        #expect(h.room.nextDeadline == nil)
    }

    @Test func facilitatorMayEndSilenceEarly() {
        let h = Self.room(in: .silence)
        h.send("f", .endSilence)
        #expect(h.room.phase == .sharing)
        h.send("f", .endSilence)
        #expect(h.errors("f") == [.wrongPhase])
    }

    @Test func silenceAsksEveryMicToMuteAndReleasesTheFloor() {
        let h = Self.room(in: .sharing)
        h.join("o", .observer)
        h.send("f", .giveFloor(to: "a"))
        h.clear()
        h.send("f", .startSilence(.seconds(30)))
        #expect(h.snapshot.floor == nil)
        #expect(h.events("a").first == .turnEnded("a", reason: .phase))
        #expect(h.messages("a").contains(.muteRequest(.silence)))
        #expect(h.messages("f").contains(.muteRequest(.silence)))
        #expect(!h.messages("o").contains(.muteRequest(.silence)), "observers have no mic")
        #expect(h.view("a")?.muted == false, "asked, not held")
    }

    @Test func handsMayBeRaisedInSilenceButTheFloorCannotBeGiven() {
        let h = Self.room(in: .silence)
        h.send("a", .raiseHand)
        #expect(h.snapshot.queue == ["a"])
        h.send("f", .giveFloor(to: nil))
        #expect(h.errors("f") == [.wrongPhase])
        #expect(h.snapshot.floor == nil)
    }

    @Test func everyoneSeesTheSilenceTimeLeftInTheirWelcome() throws {
        let h = Self.room(in: .silence)
        h.wait(.seconds(15))
        let b = h.join("b")
        #expect(h.welcome(on: b)?.timeLeft.silence == .seconds(45))
    }

    @Test func aPhaseChangeEndsTheCurrentTurn() {
        let h = Self.room(in: .sharing)
        h.send("f", .giveFloor(to: "a"))
        h.send("f", .setPhase(.close))
        #expect(h.snapshot.floor == nil)
        #expect(h.events("a").contains(.turnEnded("a", reason: .phase)))
    }

    @Test func lastFacilitatorDroppingOrLeavingLeavesTheRoomInItsPhase() {
        let h = Self.room(in: .sharing)
        h.join("b")
        h.send("a", .raiseHand)
        h.drop("f")
        h.advance(.seconds(31))
        #expect(h.view("f") == nil)
        #expect(h.room.phase == .sharing)
        #expect(h.room.isEnded == false)
        h.send("b", .raiseHand)
        #expect(h.snapshot.queue == ["a", "b"])
        h.send("a", .reaction(.wave))
        #expect(h.errors("a").isEmpty)
    }

    @Test func lastFacilitatorLeavingExplicitlyLeavesTheRoomGoingOn() {
        let h = Self.room(in: .close)
        let f = h.connection("f")
        h.send("f", .leave)
        #expect(h.closes[f]?.code == CloseCode.normal)
        #expect(h.events("a").last == .participantLeft("f", reason: .left))
        #expect(h.room.phase == .close)
        #expect(!h.ended)
    }
}
