import Testing

@testable import CircleRoom

@Suite("Joining, takeover and admission")
struct JoinTests {
    @Test func firstJoinGetsWelcomeWithSnapshotThenOwnJoinEvent() throws {
        let h = Harness()
        let f = h.join("f", .facilitator, name: "Fay")
        let messages = h.messages(on: f)
        guard case .welcome(let welcome) = messages.first else { Issue.record("no welcome first"); return }
        #expect(welcome.participant == "f")
        #expect(welcome.role == .facilitator)
        #expect(welcome.seq == 0)
        #expect(welcome.resumed == false)
        guard case .snapshot(let snapshot) = welcome.catchUp else { Issue.record("expected snapshot"); return }
        #expect(snapshot.phase == .intro)
        #expect(snapshot.participants.isEmpty)
        let view = ParticipantView(
            id: "f", name: "Fay", role: .facilitator, connection: .connected, mic: false, camera: false, muted: false)
        #expect(h.events(on: f) == [SequencedEvent(seq: 1, event: .participantJoined(view))])
        #expect(h.room.seq == 1)
    }

    @Test func othersSeeTheJoinAndTheJoinerSeesEveryoneInItsSnapshot() throws {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("a")
        let b = h.join("b")
        let welcome = try #require(h.welcome(on: b))
        guard case .snapshot(let snapshot) = welcome.catchUp else { Issue.record("expected snapshot"); return }
        #expect(snapshot.participants.map(\.id) == ["f", "a"])
        #expect(h.events("f").contains(.participantJoined(h.view("b")!)))
        #expect(h.events("a").contains(.participantJoined(h.view("b")!)))
    }

    @Test func sameSubTakesOverTheSeatAndTheOldConnectionIsClosedAsReplaced() throws {
        let h = Harness()
        h.join("f", .facilitator)
        let old = h.join("a")
        h.send("a", .raiseHand)
        let seqBefore = h.room.seq
        let (new, outcome) = h.joinOutcome("a", resumeFrom: seqBefore)
        #expect(outcome == .resumed)
        #expect(h.closes[old]?.code == CloseCode.replaced)
        #expect(h.closes[new] == nil)
        #expect(h.room.participant(for: old) == nil)
        #expect(h.room.participant(for: new) == "a")
        #expect(h.snapshot.queue == ["a"])
        #expect(h.room.seq == seqBefore, "a takeover is not a change of room state")
        let welcome = try #require(h.welcome(on: new))
        #expect(welcome.resumed)
        #expect(welcome.catchUp == .replay([]))
        // The old connection's drop arriving later is ignored.
        h.room.disconnected(connection: old, now: h.now)
        #expect(h.room.effects.isEmpty)
        #expect(h.view("a")?.connection == .connected)
    }

    @Test func takeoverKeepsTheRoomRoleNotTheTokenRole() {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("a")
        h.send("f", .promote("a"))
        h.join("a", .member)
        #expect(h.view("a")?.role == .cofacilitator)
        #expect(h.welcome(on: h.connection("a"))?.role == .cofacilitator)
    }

    @Test func lockedRoomRefusesNewJoinsWithAClearCode() {
        let h = Harness()
        h.join("f", .facilitator)
        h.send("f", .lock)
        let seq = h.room.seq
        let (connection, outcome) = h.joinOutcome("z")
        #expect(outcome == .refused(.roomLocked))
        #expect(h.errors(on: connection) == [.roomLocked])
        #expect(h.closes[connection]?.code == CloseCode.roomLocked)
        #expect(h.room.seq == seq)
        #expect(h.view("z") == nil)
    }

    @Test func lockedRoomStillLetsAReconnectWithinGraceIn() {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("a")
        h.send("f", .lock)
        h.drop("a")
        h.wait(.seconds(10))
        let (_, outcome) = h.joinOutcome("a", resumeFrom: h.room.seq)
        #expect(outcome == .resumed)
        #expect(h.view("a")?.connection == .connected)
    }

    @Test func lockedRoomStillLetsATakeoverIn() {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("a")
        h.send("f", .lock)
        #expect(h.joinOutcome("a").1 == .resumed)
    }

    @Test func unlockingAcceptsNewJoinsAgain() {
        let h = Harness()
        h.join("f", .facilitator)
        h.send("f", .lock)
        h.send("f", .unlock)
        #expect(h.joinOutcome("z").1 == .joined)
        #expect(h.snapshot.locked == false)
    }

    @Test func fullRoomRefusesNewJoinsButNotAReturningSeat() {
        let h = Harness(config: RoomConfig(maxParticipants: 2))
        h.join("f", .facilitator)
        h.join("a")
        let (connection, outcome) = h.joinOutcome("b")
        #expect(outcome == .refused(.roomFull))
        #expect(h.errors(on: connection) == [.roomFull])
        #expect(h.closes[connection]?.code == CloseCode.roomFull)
        h.drop("a")
        #expect(h.joinOutcome("b").1 == .refused(.roomFull), "a reconnecting seat is still taken")
        #expect(h.joinOutcome("a").1 == .resumed)
    }

    @Test func removedParticipantCannotRejoin() {
        let h = Harness()
        h.join("f", .facilitator)
        let a = h.join("a")
        h.send("f", .remove("a"))
        #expect(h.closes[a]?.code == CloseCode.removed)
        let seq = h.room.seq
        let (again, outcome) = h.joinOutcome("a")
        #expect(outcome == .refused(.removed))
        #expect(h.errors(on: again) == [.removed])
        #expect(h.closes[again]?.code == CloseCode.removed)
        #expect(h.room.seq == seq)
        #expect(h.view("a") == nil)
    }

    @Test func aConnectionThatIsAlreadyJoinedCannotJoinAgain() {
        let h = Harness()
        let a = h.join("a")
        let outcome = h.room.join(connection: a, identity: Identity(sub: "b", name: "B", role: .member), now: h.now)
        #expect(outcome == .refused(.conflict))
        #expect(h.view("b") == nil)
    }

    @Test func commandsFromAnUnknownConnectionAreRefused() {
        let h = Harness()
        h.join("f", .facilitator)
        h.send(on: 99, .raiseHand)
        #expect(h.errors(on: 99) == [.invalid])
        #expect(h.room.seq == 1)
    }

    @Test func observersAreNotAddedToTheRoundAndDoNotCountAsMembers() {
        let h = Harness()
        h.join("f", .facilitator)
        h.join("o", .observer)
        h.join("a")
        #expect(h.snapshot.round.map(\.participant) == ["a"])
    }
}
