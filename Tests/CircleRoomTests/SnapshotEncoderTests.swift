import CircleRoomTestSupport
import CircleTestSupport
import Testing

@testable import CircleRoom

/// The hand-written snapshot encoder (SnapshotWriter.swift) against the `Codable` encoder it replaced (the oracle):
/// the same bytes for rooms driven through real commands, and bytes that read back to the same state.
@Suite("Snapshot encoder")
struct SnapshotEncoderTests {
    static let rebase = InstantRebase(now: .seconds(1000), wallNanoseconds: 1_700_000_000_000_000_000)

    /// `Room.snapshotBytes` of a state.
    static func handWritten(_ state: RoomState, final: Bool) -> [UInt8] {
        let room = Room(id: state.id, config: state.config, now: state.now)
        room.state = state
        return room.snapshotBytes(rebase: rebase, final: final)
    }

    /// The state the bytes hold, read the way `Room.restore` reads it.
    static func decoded(_ bytes: [UInt8]) throws -> RoomState {
        var offset = 5
        return try SnapshotBytes.read(RoomState.self, from: bytes, at: &offset, rebase: rebase)
    }

    /// The bytes' tree (what the decoder reads).
    static func tree(_ bytes: [UInt8]) throws -> SnapshotNode {
        var reader = SnapshotBytes.Reader(bytes: bytes, offset: 5)
        let count = try reader.varint()
        var table: [String] = []
        for _ in 0..<count { table.append(try reader.string()) }
        let node = try reader.node(table, depth: 0)
        #expect(reader.offset == bytes.count)
        return node
    }

    /// Both snapshots of a state (running and final) are the oracle's bytes and read back to the state. False (and
    /// an issue recorded, short) if not.
    @discardableResult
    static func check(_ state: RoomState, _ label: String) throws -> Bool {
        for final in [false, true] {
            let ours = handWritten(state, final: final)
            let oracle = SnapshotOracle.snapshotBytes(state, rebase: rebase, final: final)
            if ours != oracle {
                let at = zip(ours, oracle).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                    ?? min(ours.count, oracle.count)
                let diff = "\(Array(ours[at...].prefix(12))) against \(Array(oracle[at...].prefix(12)))"
                let sizes = "\(ours.count) bytes, the oracle \(oracle.count)"
                Issue.record("\(label), final: \(final): \(sizes); at \(at): \(diff)")
                return false
            }
            var expected = state
            if !final { expected.log = EventLog(capacity: state.log.capacity) }
            let back = try decoded(ours)
            if back != expected {
                Issue.record("\(label), final: \(final): reads back to another state")
                return false
            }
        }
        return true
    }

    @Test func scriptedRoomsGiveTheOraclesBytes() throws {
        let states = Self.scriptedStates()
        #expect(states.count > 60)
        for (i, state) in states.enumerated() {
            guard try Self.check(state, "scripted state \(i)") else { break }
        }
    }

    @Test func restoredRoomsGiveTheOraclesBytes() throws {
        // A restore from a running snapshot: a log whose people were first named by non-join events (no name).
        let states = Self.scriptedStates()
        let saved = states[states.count / 2]
        let bytes = Self.handWritten(saved, final: false)
        let restored = try Room.restore(bytes, rebase: Self.rebase, locked: false, removed: [], newEpoch: 7)
        let room = restored.room
        #expect(room.state.log.people.contains { $0.name == nil })
        try Self.check(room.state, "restored")
        var now = room.state.now
        for (i, sub) in room.state.participants.inJoinOrder.map(\.id).enumerated() {
            now = now + .seconds(1)
            _ = room.join(connection: ConnectionID(UInt64(100 + i)),
                      identity: Identity(sub: sub, name: "Back \(sub)", role: .member), now: now)
            room.effects.removeAll()
            try Self.check(room.state, "restored, \(sub) back")
        }
        // And the final snapshot of the restored room restores to the same state.
        let final = Self.handWritten(room.state, final: true)
        let again = try Room.restore(final, rebase: Self.rebase, locked: false, removed: [], newEpoch: 8)
        #expect(again.wasFinal)
        #expect(again.savedSeq == room.state.seq)
        #expect(again.room.state.log.people == room.state.log.people)
    }

    @Test(arguments: 0..<24)
    func randomRoomsGiveTheOraclesBytes(seed: Int) throws {
        var rng = SplitMix64(seed: UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        let small = seed % 3 == 0  // a small log wraps: a ring whose head moved, lists cut off
        let config = RoomConfig(
            maxParticipants: 8, grace: .seconds(Int64(5 + seed % 20)), logCapacity: small ? 12 : 256,
            reactionBurst: 3,
            pacing: seed % 2 == 0 ? Pacing(turnLength: .seconds(30), nudgeBefore: .seconds(5)) : .unpaced,
            queuePolicy: seed % 4 == 1 ? .leastSpoken : .fifo)
        let h = Harness(config: config, start: .seconds(UInt64(10 + seed)))
        let subs = ["f", "c", "m1", "m2", "m3", "m4", "m5", "o"]
        h.join("f", .facilitator)
        var joined: Set<String> = ["f"]
        for step in 0..<160 {
            let sub = subs[Int(rng.next() % UInt64(subs.count))]
            if !joined.contains(sub) || rng.next() % 12 == 0 {
                let role: Role =
                    sub == "c" ? .cofacilitator : sub == "o" ? .observer : sub == "f" ? .facilitator : .member
                h.join(sub, role, name: "\(sub) #\(step)")
                if h.room.state.participants[sub] != nil { joined.insert(sub) }  // not if refused
            } else if rng.next() % 15 == 0 {
                h.drop(sub)
            } else {
                let other = subs[Int(rng.next() % UInt64(subs.count))]
                let command = Self.randomCommand(&rng, other: other)
                // Control commands mostly from a facilitator, so that they happen.
                let control = rng.next() % 2 == 0 ? "f" : "c"
                h.send(rng.next() % 3 == 0 || !joined.contains(control) ? sub : control, command)
            }
            if rng.next() % 4 == 0 { h.advance(.milliseconds(Int64(rng.next() % 20_000))) }
            guard try Self.check(h.room.state, "seed \(seed), step \(step)") else { break }
            if h.ended { break }
        }
    }

    static func randomCommand(_ rng: inout SplitMix64, other: String) -> Command {
        let phases: [Phase] = [.intro, .sharing, .close, .silence]
        let choices: [Command] = [
            .raiseHand, .raiseHand, .lowerHand, .pass, .endTurn, .reaction(.heart), .media(mic: true, camera: false),
            .media(mic: false, camera: nil), .setPhase(phases[Int(rng.next() % 4)]), .advanceRound, .advanceRound,
            .startSilence(.seconds(Int64(1 + rng.next() % 90))), .endSilence, .giveFloor(to: nil),
            .giveFloor(to: other), .moveInQueue(other, to: 0), .removeFromQueue(other), .clearQueue,
            .setQueuePolicy(rng.next() % 2 == 0 ? .fifo : .leastSpoken),
            .setPacing(Pacing(turnLength: .seconds(Int64(20 + rng.next() % 100)), nudgeBefore: .seconds(10),
                              autoAdvance: rng.next() % 2 == 0)),
            .setPacing(.unpaced), .mute(other), .unmute(other), .muteAllButSpeaker, .lock, .unlock,
            .remove(other), .promote(other), .privateWord(text: "hi"), .leave,
        ]
        let command = choices[Int(rng.next() % UInt64(choices.count))]
        if case .leave = command, rng.next() % 3 != 0 { return .raiseHand }  // fewer leaves
        return command
    }

    /// Every `RoomEvent` case, each optional both ways: the log stores the room-wide ones as they are.
    @Test func everyRoomEventGivesTheOraclesBytes() throws {
        let view = ParticipantView(id: "a", name: "Ä 名前", role: .member, connection: .reconnecting, mic: true,
                                   camera: false, muted: true)
        let events: [RoomEvent] = [
            .participantJoined(view), .participantLeft("a", reason: .timedOut), .connectionChanged("a", .connected),
            .mediaChanged("a", mic: false, camera: true), .muteChanged(["a", "b"], muted: true),
            .muteChanged([], muted: false), .roleChanged("a", .cofacilitator),
            .queueChanged(["b"], policy: .leastSpoken),
            .floorGiven("a", turnLength: nil), .floorGiven("a", turnLength: .milliseconds(1500)),
            .turnEnded("a", reason: .timeUp), .roundChanged([RoundEntry(participant: "a", status: .passed)]),
            .phaseChanged(.sharing, silence: nil), .phaseChanged(.silence, silence: .seconds(60), returnsTo: .close),
            .phaseChanged(.silence, silence: nil, returnsTo: .intro),
            .pacingChanged(Pacing(turnLength: .seconds(3600))),
            .pacingChanged(.unpaced), .lockChanged(locked: true), .sessionEnded,
        ]
        for event in events {
            var oracle: [UInt8] = []
            try SnapshotOracle.write(event, rebase: Self.rebase, into: &oracle)
            var writer = SnapshotWriter(rebase: Self.rebase, reserving: 64)
            event.write(to: &writer)
            let ours = writer.bytes(after: [])
            #expect(ours == oracle, "\(event.wireName)")
        }
    }

    /// Durations of every sign and size: `Duration`'s own two-word form.
    @Test func durationsGiveTheOraclesBytes() throws {
        let durations: [Duration] = [
            .zero, .nanoseconds(1), .nanoseconds(-1), .seconds(30), .seconds(-30), .seconds(Int64.max),
            .seconds(Int64.min), .milliseconds(1234), Duration(secondsComponent: 5, attosecondsComponent: 7),
        ]
        var oracle: [UInt8] = []
        try SnapshotOracle.write(durations, rebase: Self.rebase, into: &oracle)
        var writer = SnapshotWriter(rebase: Self.rebase, reserving: 64)
        durations.write(to: &writer)
        let ours = writer.bytes(after: [])
        #expect(ours == oracle)
    }

    /// A field added to a state type and not written fails here: every stored property of every type in the state
    /// (read by reflection) must be a member of its object in the bytes (a nil optional must be absent), and the
    /// scripted states give every one of them a value at least once (so every optional is written somewhere).
    @Test func everyStoredPropertyIsWritten() throws {
        var walker = FieldWalker()
        for state in Self.scriptedStates() {
            walker.walk(state, try Self.tree(Self.handWritten(state, final: true)), "RoomState")
        }
        for problem in walker.problems.prefix(10) { Issue.record("\(problem.prefix(300))") }
        let unseen = walker.all.subtracting(walker.seen)
        #expect(unseen.isEmpty, "never given a value: \(unseen)")
        #expect(walker.all.count > 60)
        // Every kind of logged event, and every room-wide event the log keeps as it is.
        let kinds: Set<String> = ["joined", "left", "connection", "media", "mute", "role", "queue", "floor",
                                  "turnEnded", "round", "room", "phaseChanged", "pacingChanged", "lockChanged",
                                  "sessionEnded"]
        #expect(kinds.subtracting(walker.cases).isEmpty, "never logged: \(kinds.subtracting(walker.cases))")
        #expect(SnapshotKey.allCases.count < 127)  // a key number is one byte
    }

    // MARK: - States

    /// Rooms driven through commands into states with something of everything, a state after each input.
    static func scriptedStates() -> [RoomState] {
        var states: [RoomState] = []
        let config = RoomConfig(
            maxParticipants: 12, grace: .seconds(20), logCapacity: 512, reactionBurst: 2,
            reactionRefill: .milliseconds(700), pacing: Pacing(turnLength: .seconds(90), nudgeBefore: .seconds(15)))
        let h = Harness(config: config)
        func step(_ action: () -> Void) {
            action()
            states.append(h.room.state)
        }
        states.append(h.room.state)
        step { h.join("f", .facilitator) }
        step { h.join("c", .cofacilitator) }
        for sub in ["a", "b", "d", "e"] { step { h.join(sub, name: "Name \(sub) ✓") } }
        step { h.join("o", .observer) }
        // The intro round: a turn done, a pass, a silence from it and back.
        step { h.send("f", .advanceRound) }
        step { h.advance(.seconds(80)) }  // past the nudge
        step { h.send("f", .advanceRound) }
        step { h.send("b", .pass) }
        step { h.send("d", .pass) }
        step { h.send("f", .startSilence(.seconds(45))) }
        step { h.advance(.seconds(10)) }
        step { h.send("f", .endSilence) }
        step { h.send("e", .reaction(.nod)) }
        step { h.send("e", .reaction(.clap)) }
        step { h.send("a", .media(mic: true, camera: true)) }
        // Sharing: a queue, both policies, paced turns with nudge and end, auto-advance, time up.
        step { h.send("f", .setPhase(.sharing)) }
        for sub in ["b", "a", "d"] { step { h.send(sub, .raiseHand) } }
        step { h.send("f", .moveInQueue("d", to: 0)) }
        step { h.send("f", .setQueuePolicy(.leastSpoken)) }
        step { h.send("f", .giveFloor(to: nil)) }
        step { h.advance(.seconds(30)) }
        step { h.send("f", .setPacing(Pacing(turnLength: .seconds(20), nudgeBefore: .seconds(5), autoAdvance: true))) }
        step { h.send("f", .giveFloor(to: "e")) }
        step { h.advance(.seconds(16)) }
        step { h.advance(.seconds(5)) }  // time up: the floor moves on
        step { h.send("f", .setPacing(.unpaced)) }
        step { h.send("f", .giveFloor(to: "c")) }
        step { h.send("c", .endTurn) }
        step { h.send("f", .startSilence(.seconds(120))) }
        step { h.send("f", .setPhase(.sharing)) }
        // Controls: mutes, a promotion, a removal, a lock, a private word.
        step { h.send("f", .mute("a")) }
        step { h.send("f", .muteAllButSpeaker) }
        step { h.send("f", .unmute("b")) }
        step { h.send("f", .promote("b")) }
        step { h.send("f", .remove("e")) }
        step { h.send("f", .lock) }
        step { h.send("f", .unlock) }
        step { h.send("f", .lock) }
        step { h.send("a", .privateWord(text: "a word")) }
        step { h.send("f", .setQueuePolicy(.fifo)) }
        step { h.send("d", .raiseHand) }
        step { h.send("f", .clearQueue) }
        // Seats reconnecting within their grace, one back, one timed out, one who left.
        step { h.drop("d") }
        step { h.drop("b") }
        step { h.advance(.seconds(5)) }
        step { h.join("b", .member, name: "B again") }
        step { h.advance(.seconds(30)) }
        step { h.send("o", .leave) }
        // The closing round and the end.
        step { h.send("f", .setPacing(Pacing(turnLength: .seconds(60), nudgeBefore: .seconds(10)))) }
        step { h.send("f", .setPhase(.close)) }
        step { h.send("f", .advanceRound) }
        step { h.advance(.seconds(52)) }
        step { h.send("f", .advanceRound) }
        step { h.send("b", .pass) }
        step { h.send("f", .startSilence(.seconds(30))) }
        step { h.advance(.seconds(31)) }
        step { h.send("a", .reaction(.wave)) }
        step { h.send("f", .endSession) }
        return states
    }
}

/// Walks a value beside the tree its bytes read back as, by reflection: each stored property of a struct must be a
/// member of the object (a nil optional must be absent), and no other member may be there.
struct FieldWalker {
    /// Every `Type.property` met, and those met with a value.
    var all: Set<String> = []
    var seen: Set<String> = []
    /// Enum cases met (cases with values, and the room-wide events in the log).
    var cases: Set<String> = []
    var problems: [String] = []

    private enum Unwrapped {
        case plain(Any)
        case some(Any)
        case none
    }

    private func unwrap(_ value: Any) -> Unwrapped {
        let mirror = Swift.Mirror(reflecting: value)
        guard mirror.displayStyle == .optional else { return .plain(value) }
        return mirror.children.first.map { .some($0.value) } ?? .none
    }

    mutating func walk(_ value: Any, _ node: SnapshotNode, _ path: String) {
        func expect(_ ok: Bool, _ what: String) {
            let problem = "\(path): \(what), got \(String(describing: node).prefix(40))"
            if !ok && !problems.contains(problem) { problems.append(problem) }
        }
        switch value {
        case is Instant:
            if case .int = node { return }
            return expect(false, "an instant")
        case is Duration:
            if case .array(let words) = node, words.count == 2 { return }
            return expect(false, "a duration")
        case is String:
            if case .string = node { return }
            return expect(false, "a string")
        case is Int, is Int32:
            if case .int = node { return }
            return expect(false, "a signed integer")
        case is UInt64, is UInt32:
            if case .uint = node { return }
            return expect(false, "an unsigned integer")
        case is Bool:
            if case .bool = node { return }
            return expect(false, "a bool")
        case let set as Set<String>:
            if case .array(let items) = node, items.count == set.count { return }
            return expect(false, "a set")
        default: break
        }
        let mirror = Swift.Mirror(reflecting: value)
        let type = String(describing: Swift.type(of: value))
        switch mirror.displayStyle {
        case .struct:
            guard case .object(let members) = node else { return expect(false, "an object") }
            var written = 0
            for child in mirror.children {
                let label = child.label ?? "?"
                all.insert("\(type).\(label)")
                let member = members.first { $0.key == label }
                switch unwrap(child.value) {
                case .none:
                    expect(member == nil, "\(label) is nil but written")
                case .some(let inner), .plain(let inner):
                    seen.insert("\(type).\(label)")
                    written += 1
                    guard let member else {
                        expect(false, "\(label) not written")
                        continue
                    }
                    walk(inner, member.value, "\(path).\(label)")
                }
            }
            expect(members.count == written, "\(members.count) members for \(written) properties")
        case .collection:
            guard case .array(let items) = node, items.count == mirror.children.count else {
                return expect(false, "an array of \(mirror.children.count)")
            }
            for (i, (child, item)) in zip(mirror.children, items).enumerated() {
                walk(child.value, item, "\(path)[\(i)]")
            }
        case .enum:
            if value is any RawRepresentable {
                if case .string = node { return }
                return expect(false, "a raw value")
            }
            // `{case: {values}}`: the values by label, `_0`... for unlabelled ones.
            guard case .object(let outer) = node, outer.count == 1, case .object(let inner) = outer[0].value else {
                return expect(false, "an enum case")
            }
            let name = mirror.children.first?.label ?? String(describing: value)
            cases.insert(name)
            expect(outer[0].key == name, "case \(name)")
            guard let payload = mirror.children.first?.value else { return expect(inner.isEmpty, "no values") }
            let tuple = Swift.Mirror(reflecting: payload)
            if tuple.displayStyle == .tuple {
                var written = 0
                for (i, element) in tuple.children.enumerated() {
                    let label = element.label.map { $0.hasPrefix(".") ? "_\(i)" : $0 } ?? "_\(i)"
                    let member = inner.first { $0.key == label }
                    switch unwrap(element.value) {
                    case .none: expect(member == nil, "\(name).\(label) is nil but written")
                    case .some(let v), .plain(let v):
                        written += 1
                        guard let member else {
                            expect(false, "\(name).\(label) not written")
                            continue
                        }
                        walk(v, member.value, "\(path).\(name).\(label)")
                    }
                }
                expect(inner.count == written, "\(inner.count) values for \(written)")
            } else {
                // One value: its label is not kept by reflection.
                switch unwrap(payload) {
                case .none: expect(inner.isEmpty, "\(name): nil but written")
                case .some(let v), .plain(let v):
                    guard inner.count == 1 else { return expect(false, "\(name): one value") }
                    walk(v, inner[0].value, "\(path).\(name)")
                }
            }
        default:
            expect(false, "an unexpected \(type)")
        }
    }
}
