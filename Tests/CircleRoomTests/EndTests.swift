import Testing

@testable import CircleRoom

@Suite("Ending the session")
struct EndTests {
    @Test func endSendsTheEndEventThenAnAckThenANormalCloseToEveryoneAndDropsTheRoom() {
        let h = Harness()
        let f = h.join("f", .facilitator)
        let a = h.join("a")
        h.join("b")
        h.drop("b")
        h.send("f", .giveFloor(to: "a"))
        h.clear()
        let first = h.log.count
        h.send("f", .endSession)
        #expect(h.events("a") == [.sessionEnded])
        #expect(h.messages("f") == [.event(SequencedEvent(seq: h.room.seq, event: .sessionEnded)), .ack("r")])
        #expect(h.closes[f]?.code == CloseCode.normal)
        #expect(h.closes[a]?.code == CloseCode.normal)
        #expect(h.ended)
        #expect(h.log.last == .ended)
        let tail = Array(h.log[first...])
        #expect(tail.count == 5, "event, ack, two closes, ended")
        #expect(h.room.isEnded)
        #expect(h.room.nextDeadline == nil, "no timers after the end (b's grace included)")
        #expect(h.room.connections.isEmpty)
    }

    /// Protocol 2: only `end_session` ends the session (a v1 `set_phase ended` is decoded as `end_session`).
    @Test func setPhaseEndedIsInvalidAndEndSessionEndsFromAnyPhase() {
        let h = Harness()
        h.join("f", .facilitator)
        h.send("f", .startSilence(.seconds(30)))
        h.send("f", .setPhase(.ended))
        #expect(h.errors("f") == [.invalid])
        #expect(!h.ended)
        #expect(h.room.phase == .silence)
        h.send("f", .endSession)
        #expect(h.ended)
        #expect(h.room.phase == .ended)
    }

    @Test func aCofacilitatorMayEndTheSession() {
        let h = Harness()
        h.join("c", .cofacilitator)
        h.send("c", .endSession)
        #expect(h.ended)
    }

    @Test func afterTheEndJoinsAndCommandsAreRefused() {
        let h = Harness()
        h.join("f", .facilitator)
        h.send("f", .endSession)
        let (connection, outcome) = h.joinOutcome("z")
        #expect(outcome == .refused(.sessionEnded))
        #expect(h.closes[connection]?.code == CloseCode.sessionEnded)
        h.send(on: h.connection("f"), .lock)
        #expect(h.errors(on: h.connection("f")).last == .sessionEnded)
        let seq = h.room.seq
        h.tick()
        h.room.disconnected(connection: h.connection("f"), now: h.now)
        #expect(h.room.seq == seq)
    }

    @Test func theCurrentTurnCountsInTheStatsAtTheEnd() {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("a")
        h.send("f", .giveFloor(to: "a"))
        h.advance(.seconds(12))
        h.send("f", .endSession)
        #expect(h.stats("a")?.spoken == .seconds(12))
    }
}
