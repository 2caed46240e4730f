import Testing

@testable import CircleRoom

@Suite("Signal relay, reactions, private word")
struct RelayTests {
    static func room() -> Harness {
        let h = Harness.fullRoom()
        h.clear()
        return h
    }

    static let offer: [UInt8] = Array(#"{"sdp":"v=0..."}"#.utf8)

    @Test func signalToOneParticipantIsStampedWithTheSender() {
        let h = Self.room()
        let seq = h.room.seq
        h.send("a", .signal(to: .participant("b"), payload: Self.offer))
        #expect(h.messages("b") == [.signal(from: "a", payload: Self.offer)])
        #expect(h.messages("f").isEmpty)
        #expect(h.messages("a") == [.ack("r")])
        #expect(h.room.seq == seq, "relay is not a change of room state")
    }

    @Test func signalToEveryoneReachesAllButTheSender() {
        let h = Self.room()
        h.send("a", .signal(to: .everyone, payload: Self.offer))
        for sub in ["f", "c", "b", "o"] {
            #expect(h.messages(sub) == [.signal(from: "a", payload: Self.offer)])
        }
        #expect(h.messages("a") == [.ack("r")])
    }

    @Test func signalsToEveryoneFromSeveralSendersEachSkipOnlyTheirSender() {
        // The recipient list is a reused buffer: each delivery must keep its own list, drained or not.
        let h = Self.room()
        let senders = ["a", "b", "f", "a"]
        for (index, sender) in senders.enumerated() {
            h.room.handle(
                connection: h.connection(sender), command: .signal(to: .everyone, payload: [UInt8(index)]), now: h.now)
        }
        var lists: [[ConnectionID]] = []
        for effect in h.room.effects {
            if case .deliver(.signal, let recipients) = effect { lists.append(recipients) }
        }
        let everyone = h.room.connections
        #expect(lists == senders.map { sender in everyone.filter { $0 != h.connection(sender) } })
        h.room.effects.removeAll(keepingCapacity: true)
        h.send("o", .signal(to: .everyone, payload: Self.offer), id: nil)
        h.send("c", .signal(to: .everyone, payload: Self.offer), id: nil)
        for sub in ["f", "a", "b"] {
            #expect(
                h.messages(sub) == [.signal(from: "o", payload: Self.offer), .signal(from: "c", payload: Self.offer)])
        }
        #expect(h.messages("o") == [.signal(from: "c", payload: Self.offer)])
        #expect(h.messages("c") == [.signal(from: "o", payload: Self.offer)])
    }

    @Test func signalToSomeoneNotHereIsNotFoundAndToSomeoneReconnectingIsReconnecting() {
        let h = Self.room()
        h.send("a", .signal(to: .participant("someone-in-another-room"), payload: Self.offer))
        h.drop("b")
        h.send("a", .signal(to: .participant("b"), payload: Self.offer))
        #expect(h.errors("a") == [.notFound, .reconnecting])
        #expect(h.messages("b").isEmpty)
    }

    @Test func signalToYourselfIsInvalid() {
        let h = Self.room()
        h.send("a", .signal(to: .participant("a"), payload: Self.offer))
        #expect(h.errors("a") == [.invalid])
    }

    @Test func signalSizeIsCapped() {
        let h = Harness(config: RoomConfig(maxSignalBytes: 16))
        h.join("a")
        h.join("b")
        h.clear()
        h.send("a", .signal(to: .participant("b"), payload: Array(repeating: 1, count: 16)))
        #expect(h.messages("b").count == 1)
        h.send("a", .signal(to: .everyone, payload: Array(repeating: 1, count: 17)))
        #expect(h.errors("a") == [.tooLarge])
        #expect(h.messages("b").count == 1)
    }

    @Test func theDefaultSignalCapIs64KiB() {
        #expect(RoomConfig().maxSignalBytes == 65536)
    }

    @Test func observersMaySignalToReceiveVideo() {
        let h = Self.room()
        h.send("o", .signal(to: .participant("a"), payload: Self.offer))
        #expect(h.messages("a") == [.signal(from: "o", payload: Self.offer)])
    }

    @Test func reactionsAreBroadcastUnsequenced() {
        let h = Self.room()
        let seq = h.room.seq
        h.send("a", .reaction(.heart))
        for sub in ["f", "c", "a", "b", "o"] {
            #expect(h.messages(sub).contains(.reaction(from: "a", .heart)))
        }
        #expect(h.room.seq == seq)
    }

    @Test func reactionsAreRateLimitedPerParticipantAndRefill() {
        let h = Harness(config: RoomConfig(reactionBurst: 3, reactionRefill: .seconds(2)))
        h.join("a")
        h.join("b")
        for _ in 0..<4 { h.send("a", .reaction(.nod)) }
        #expect(h.errors("a") == [.rateLimited])
        h.send("b", .reaction(.wave))
        #expect(h.errors("b").isEmpty, "the limit is per participant")
        h.wait(.seconds(1))
        h.send("a", .reaction(.nod))
        #expect(h.errors("a") == [.rateLimited, .rateLimited])
        h.wait(.seconds(1))
        h.send("a", .reaction(.nod))
        #expect(h.errors("a").count == 2)
        h.wait(.seconds(60))
        for _ in 0..<3 { h.send("a", .reaction(.clap)) }
        #expect(h.errors("a").count == 2, "refills up to the burst")
        h.send("a", .reaction(.clap))
        #expect(h.errors("a").count == 3)
    }

    @Test func aPrivateWordReachesOnlyTheFacilitators() {
        let h = Self.room()
        h.send("a", .privateWord(text: "I need a moment"))
        let word = Outbound.privateWord(from: "a", text: "I need a moment")
        #expect(h.messages("f") == [word])
        #expect(h.messages("c") == [word])
        #expect(h.messages("b").isEmpty)
        #expect(h.messages("o").isEmpty)
        #expect(h.messages("a") == [.ack("r")])
    }

    @Test func aPrivateWordWithoutTextAndFromACofacilitator() {
        let h = Self.room()
        h.send("a", .privateWord(text: ""))
        #expect(h.messages("f") == [.privateWord(from: "a", text: nil)])
        h.send("c", .privateWord(text: nil))
        #expect(h.messages("f").last == .privateWord(from: "c", text: nil))
        #expect(!h.messages("c").contains(.privateWord(from: "c", text: nil)))
    }

    @Test func aPrivateWordWhileEveryFacilitatorIsReconnectingIsReconnectingAndOnceTheyAreGoneNotFound() {
        let h = Self.room()
        h.drop("f")
        h.drop("c")
        h.send("a", .privateWord(text: nil))
        #expect(h.errors("a") == [.reconnecting])
        h.advance(.seconds(31))  // past the grace: their seats are gone
        h.send("a", .privateWord(text: nil))
        #expect(h.errors("a") == [.reconnecting, .notFound])
    }

    @Test func seenReachesTheMemberAndTheOtherFacilitatorsOnly() {
        let h = Self.room()
        h.send("a", .privateWord(text: nil))
        h.send("f", .privateWordSeen("a"))
        let seen = Outbound.privateWordSeen(participant: "a", by: "f")
        #expect(h.messages("a").last == seen)
        #expect(h.messages("c").last == seen)
        #expect(h.messages("f").last == .ack("r"))
        #expect(!h.messages("f").contains(seen))
        #expect(!h.messages("b").contains(seen))
        #expect(!h.messages("o").contains(seen))
    }

    @Test func seenForSomeoneReconnectingOrGoneIsRefusedAndMembersMayNotSendIt() {
        let h = Self.room()
        h.send("b", .privateWordSeen("a"))
        #expect(h.errors("b") == [.forbidden])
        h.drop("a")
        h.send("f", .privateWordSeen("a"))
        h.send("f", .privateWordSeen("nobody"))
        #expect(h.errors("f") == [.reconnecting, .notFound])
    }

    @Test func aPrivateWordTextIsCapped() {
        let h = Harness(config: RoomConfig(maxPrivateWordBytes: 10))
        h.join("f", .facilitator)
        h.join("a")
        h.send("a", .privateWord(text: "ééééééX"))
        #expect(h.errors("a") == [.tooLarge])
    }
}
