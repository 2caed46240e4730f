@testable import CircleRoom
@testable import CircleRooms
import Testing

/// The journal replays through the engine to the very state the live room reached: a seeded run of every input
/// kind, recorded as `RoomStorage` records it (through the record's bytes), replayed over the last snapshot, gives
/// the live room's state.
@Suite struct JournalReplayTests {
    /// A process's clock pair: the monotonic clock starts at 1,000 s, the wall clock in December 2026.
    let rebase = InstantRebase(now: Instant(nanoseconds: 1_000_000_000_000), wallNanoseconds: 1_796_500_000_000_000_000)

    struct Generator {
        var state: UInt64
        mutating func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
    }

    /// Inputs of every kind a group sends, from whoever is seated, several of them refused or without effect.
    func input(_ g: inout Generator, room: Room, connections: inout [String: ConnectionID], nextConnection: inout UInt64)
        -> RoomInput
    {
        let subs = ["f", "co", "a", "b", "c", "d"]
        let sub = subs[g.next(subs.count)]
        let other = subs[g.next(subs.count)]
        guard let connection = connections[sub], g.next(12) != 0 else {
            if let connection = connections[sub], g.next(2) == 0 {
                connections[sub] = nil
                return .disconnected(connection)
            }
            nextConnection += 1
            connections[sub] = ConnectionID(nextConnection)
            let role: Role = sub == "f" ? .facilitator : sub == "co" ? .cofacilitator : sub == "d" ? .observer : .member
            return .join(ConnectionID(nextConnection), Identity(sub: sub, name: "Name \(sub)", role: role))
        }
        let commands: [Command] = [
            .raiseHand, .lowerHand, .pass, .endTurn, .advanceRound, .endSilence, .clearQueue, .muteAllButSpeaker,
            .setPhase([.intro, .sharing, .close][g.next(3)]), .startSilence(.seconds(1 + g.next(20))),
            .giveFloor(to: g.next(3) == 0 ? nil : other), .moveInQueue(other, to: g.next(3)),
            .removeFromQueue(other), .setQueuePolicy(g.next(2) == 0 ? .fifo : .leastSpoken),
            .setPacing(Pacing(turnLength: g.next(2) == 0 ? nil : .seconds(5 + g.next(60)),
                              nudgeBefore: .seconds(g.next(5)), autoAdvance: g.next(2) == 0)),
            .mute(other), .unmute(other), .media(mic: g.next(2) == 0, camera: g.next(3) == 0 ? nil : true),
            .promote(other), .lock, .unlock, .signal(to: .participant(other), payload: Array(#"{"sdp":"x"}"#.utf8)),
            .reaction(.wave), .privateWord(text: "words"), .requestStats, .remove(other),
        ]
        let command = commands[g.next(commands.count)]
        if case .remove = command, g.next(25) != 0 { return .command(connection, .raiseHand) }  // rarer
        return .command(connection, command)
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func replayReachesTheLiveState(seed: UInt64) throws {
        var g = Generator(state: seed)
        var config = RoomConfig()
        config.grace = .seconds(8)
        var now = rebase.now
        let room = Room(id: "g", config: config, now: now)
        var connections: [String: ConnectionID] = [:]
        var nextConnection: UInt64 = 0
        var snapshot: [UInt8]?
        var records: [[UInt8]] = []
        var journaled = 0
        var stored = room.seq
        for step in 0..<1_500 {
            now = now + .milliseconds(1 + g.next(3_000))
            let input = g.next(10) == 0
                ? .tick : input(&g, room: room, connections: &connections, nextConnection: &nextConnection)
            room.apply(input, now: now)
            room.effects.removeAll()
            if room.isEnded { break }
            if step == 40 {
                snapshot = room.snapshotBytes(rebase: rebase)
                stored = room.seq
                continue
            }
            guard snapshot != nil else { continue }
            let changed = room.seq != stored
            if JournalRecord.records(input, seqChanged: changed) {
                let record = JournalRecord(epoch: room.epoch, seqBefore: stored, seqAfter: room.seq, now: now,
                                           rebase: rebase, input: input)
                #expect(JournalRecord(record.bytes()) == record)
                records.append(record.bytes())
                journaled += 1
                stored = room.seq
            } else if changed {
                // An input the journal leaves out changed the seq (a timer it caught up on, say): as `RoomStorage`
                // does, a snapshot starts the journal again.
                snapshot = room.snapshotBytes(rebase: rebase)
                records.removeAll()
                stored = room.seq
            }
        }
        #expect(journaled > 150 && records.count > 3)
        var replayed = 0
        let bytes = try Room.replaying(try #require(snapshot), rebase: rebase) { replay in
            for bytes in records {
                let record = try! #require(JournalRecord(bytes))
                guard replay.seq == record.seqBefore,
                      replay.replay(record.input, now: record.now, expecting: record.seqAfter) else { return }
                replayed += 1
            }
        }
        #expect(replayed == records.count)
        // The replayed state is the live one but for what the journal does not carry: reactions' rate buckets
        // and the instant of the last input left out (a signal, a reaction).
        var offset = 5
        var replayedState = try SnapshotBytes.read(RoomState.self, from: bytes, at: &offset, rebase: rebase)
        let live = room.state
        replayedState.now = live.now
        #expect(replayedState.participants.count == live.participants.count)
        for i in 0..<min(replayedState.participants.count, live.participants.count) {
            replayedState.participants[at: i].reactions = live.participants[at: i].reactions
        }
        replayedState.log = live.log  // a running snapshot carries no log (only a graceful shutdown's does)
        #expect(replayedState == live)
        #expect(live.seq > 60)
    }

    /// A record that does not follow on (a gap in the seqs) or that the engine takes differently stops the replay
    /// where the room was, never past it.
    @Test func aRecordTheEngineTakesDifferentlyLeavesTheRoomAsItWas() throws {
        let room = Room(id: "g", now: rebase.now)
        room.join(connection: 1, identity: Identity(sub: "f", name: "F", role: .facilitator), now: rebase.now)
        room.effects.removeAll()
        let saved = room.snapshotBytes(rebase: rebase)
        let seq = room.seq
        let bytes = try Room.replaying(saved, rebase: rebase) { replay in
            // A member's join would add one event; claiming it adds five is a record the engine takes differently.
            let ok = replay.replay(.join(2, Identity(sub: "m", name: "M", role: .member)),
                                   now: rebase.now + .seconds(1), expecting: seq + 5)
            #expect(!ok && replay.seq == seq && replay.participantCount == 1)
        }
        #expect(bytes == saved)
        #expect(JournalRecord(Array(saved)) == nil && JournalRecord([0x43, 0x52, 0x4A, 1, 9]) == nil)
    }

    /// A damaged record (a cut, a flipped byte, garbage) reads as nil or as some record, never past its bytes.
    @Test func damagedRecordsReadAsNothingOrARecord() {
        var g = Generator(state: 99)
        let records = [
            JournalRecord(epoch: 7, seqBefore: 1, seqAfter: 2, now: rebase.now, rebase: rebase,
                          input: .join(3, Identity(sub: "m1", name: "Sam ✨", role: .member))),
            JournalRecord(epoch: 7, seqBefore: 2, seqAfter: 3, now: rebase.now, rebase: rebase,
                          input: .command(3, .setPacing(Pacing(turnLength: .seconds(90), nudgeBefore: .seconds(10),
                                                               autoAdvance: true)))),
            JournalRecord(epoch: 7, seqBefore: 3, seqAfter: 4, now: rebase.now, rebase: rebase, input: .disconnected(3)),
            JournalRecord(epoch: 7, seqBefore: 4, seqAfter: 5, now: rebase.now, rebase: rebase, input: .tick),
        ].map { $0.bytes() }
        var read = 0
        for round in 0..<20_000 {
            var bytes = records[round % records.count]
            switch g.next(3) {
            case 0: bytes = Array(bytes.prefix(g.next(bytes.count + 1)))
            case 1: for _ in 0...g.next(4) { bytes[g.next(bytes.count)] = UInt8(truncatingIfNeeded: g.next(256)) }
            default: bytes = (0..<g.next(120)).map { _ in UInt8(truncatingIfNeeded: g.next(256)) }
            }
            if let record = JournalRecord(bytes) { read += record.bytes().isEmpty ? 0 : 1 }
        }
        #expect(read > 0 && read < 20_000)
    }
}
