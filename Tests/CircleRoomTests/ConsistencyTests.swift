import Foundation
import Testing

@testable import CircleRoom

@Suite("One order, one view")
struct ConsistencyTests {
    /// A whole session: intro with a pass, sharing with hands and a paced turn, a silence that ends by itself, a mute
    /// the member can't undo, a dropped connection that resumes, close, and everyone agreeing at every step.
    static func session() -> (Harness, [String: Mirror]) {
        let h = Harness()
        h.join("f", .facilitator)
        for member in ["a", "b", "c", "d"] { h.join(member) }
        // intro
        h.send("f", .advanceRound)
        h.send("a", .media(mic: true, camera: true))
        h.advance(.seconds(40))
        h.send("a", .endTurn)
        h.send("b", .pass)
        h.advance(.seconds(25))
        h.send("f", .advanceRound)
        h.send("d", .endTurn)
        // sharing
        h.send("f", .setPhase(.sharing))
        h.send("f", .setPacing(Pacing(turnLength: .seconds(90), nudgeBefore: .seconds(30), autoAdvance: true)))
        h.send("c", .raiseHand)
        h.send("b", .raiseHand)
        h.send("f", .giveFloor(to: nil))
        h.run(until: h.now + .seconds(90))  // c's turn runs out, b speaks
        h.send("f", .mute("a"))
        h.send("a", .media(mic: true, camera: nil))  // refused
        // b drops while speaking and resumes
        let bMirror = Mirror(h.messages("b"))!
        h.drop("b")
        h.send("d", .raiseHand)
        h.wait(.seconds(5))
        h.join("b", resumeFrom: bMirror.seq)
        h.send("b", .endTurn)
        // a silence that ends by itself
        h.send("f", .startSilence(.seconds(60)))
        h.send("a", .raiseHand)
        h.run(until: h.now + .seconds(61))
        // close
        h.send("f", .setPhase(.close))
        h.send("f", .advanceRound)
        h.send("a", .pass)
        var mirrors: [String: Mirror] = [:]
        for sub in ["f", "a", "c", "d"] { mirrors[sub] = Mirror(h.messages(sub)) }
        mirrors["b"] = Mirror(h.messages("b"), base: bMirror)
        return (h, mirrors)
    }

    @Test func everyClientHoldsTheSameViewAsTheRoom() throws {
        let (h, mirrors) = Self.session()
        #expect(h.snapshot.phase == .close)
        #expect(h.snapshot.round.first == RoundEntry(participant: "a", status: .passed))
        #expect(h.view("a")?.muted == false, "the floor lifted the mute")
        for (sub, mirror) in mirrors {
            #expect(mirror.gaps.isEmpty, "\(sub) saw a gap: \(mirror.gaps)")
            #expect(mirror.seq == h.room.seq, "\(sub) is behind")
            #expect(mirror.view == h.snapshot, "\(sub) disagrees")
        }
    }

    @Test func everyClientSeesTheSameEventsInTheSameOrder() {
        let (h, _) = Self.session()
        var bySeq: [UInt64: RoomEvent] = [:]
        for connection in h.inbox.keys {
            let events = h.events(on: connection)
            #expect(events.map(\.seq) == events.map(\.seq).sorted(), "out of order on \(connection)")
            for event in events {
                if let seen = bySeq[event.seq] {
                    #expect(seen == event.event, "seq \(event.seq) differs between clients")
                } else {
                    bySeq[event.seq] = event.event
                }
            }
        }
        #expect(bySeq.count == Int(h.room.seq))
    }

    @Test func everySequencedEventIsLoggedAndBroadcastOnce() {
        let (h, _) = Self.session()
        var seqs: [UInt64] = []
        for effect in h.log {
            if case .deliver(.event(let event), _) = effect { seqs.append(event.seq) }
        }
        // Replays re-send old events inside a welcome, never as separate deliveries.
        #expect(seqs == Array(1...h.room.seq))
    }

    @Test func theStateIsSerializableAndARestoredRoomCarriesOn() throws {
        let (h, _) = Self.session()
        let data = try JSONEncoder().encode(h.room.state)
        let decoded = try JSONDecoder().decode(RoomState.self, from: data)
        #expect(decoded == h.room.state)
        let restored = Room(restoring: decoded)
        #expect(Set(restored.connections) == Set(h.room.connections))
        restored.handle(connection: h.connection("f"), requestID: "x", command: .lock, now: h.now)
        h.room.handle(connection: h.connection("f"), requestID: "x", command: .lock, now: h.now)
        #expect(restored.effects.count == h.room.effects.count)
        #expect(restored.state == h.room.state)
    }

    @Test func namesTravelOnlyInJoinEventsAndSnapshots() {
        let (h, _) = Self.session()
        for effect in h.log {
            guard case .deliver(let message, _) = effect else { continue }
            if case .welcome = message { continue }
            if case .event(let event) = message, case .participantJoined = event.event { continue }
            #expect(!String(describing: message).contains("Name of"), "a name leaked into \(message.wireName)")
        }
    }
}

@Suite("Log safety")
struct LogSafetyTests {
    @Test func logSummariesNeverCarryNamesTextsOrPayloads() {
        let (h, _) = ConsistencyTests.session()
        h.send("a", .privateWord(text: "secret words"))
        h.send("a", .signal(to: .everyone, payload: Array("v=0 sdp-secret".utf8)))
        for effect in h.log {
            let line = effect.logSummary
            #expect(!line.contains("Name of"))
            #expect(!line.contains("secret"))
        }
        #expect(h.log.contains { $0.logSummary.hasPrefix("deliver signal from=a bytes=14") })
    }
}

extension Room {
    /// A room rebuilt from a saved state, to show that the state holds all a room needs to carry on.
    convenience init(restoring state: RoomState) {
        self.init(id: state.id, config: state.config, now: state.now)
        self.state = state
        for seat in state.participants.inJoinOrder {
            if let connection = seat.connection { recipients.appendCompactly(connection) }
        }
    }
}
