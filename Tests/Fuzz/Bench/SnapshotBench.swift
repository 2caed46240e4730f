// The room snapshot encoder (Sources/CircleRoom/SnapshotWriter.swift) against the `Codable` encoder it replaced
// (SnapshotOracle.swift, a link to Tests/CircleRoomTestSupport): the same states, the same bytes, timed in turns.
@testable import CircleRoom

/// Snapshot cases: 1,000 snapshots a run, so a run's time in ms is the time of one snapshot in µs.
func snapshotCases() -> [Case] {
    let rebase = InstantRebase(now: .seconds(5000), wallNanoseconds: 1_700_000_000_000_000_000)
    var out: [Case] = []
    for seats in [10, 4, 15] {
        let name = "\(seats) seats", state = midSession(seats: seats)
        for final in [false, true] {
            let room = Room(id: state.id, config: state.config, now: state.now)
            room.state = state
            let ours = room.snapshotBytes(rebase: rebase, final: final)
            precondition(ours == SnapshotOracle.snapshotBytes(state, rebase: rebase, final: final),
                         "the snapshot encoders disagree")
            let label = "snapshot \(name)" + (final ? ", final" : "") + " x1000"
            out.append(Case(label, ours.count) {
                for _ in 0..<1000 { blackHole(room.snapshotBytes(rebase: rebase, final: final)) }
            } baseline: {
                for _ in 0..<1000 { blackHole(SnapshotOracle.snapshotBytes(room.state, rebase: rebase, final: final)) }
            })
        }
    }
    return out
}

@inline(never)
func blackHole(_ bytes: [UInt8]) { precondition(bytes.count > 5) }

/// A session in sharing: a facilitator and members, a paced turn under way, hands raised, a mute, reactions, a seat
/// reconnecting, speaking stats, and the events of all that in the log (a few hundred commands in).
func midSession(seats: Int) -> RoomState {
    var now = Instant.seconds(1000)
    let room = Room(id: "room-bench", config: RoomConfig(pacing: Pacing(turnLength: .seconds(120))), now: now)
    let subs = (0..<seats).map { $0 == 0 ? "facilitator-0" : "member-\($0)" }
    for (i, sub) in subs.enumerated() {
        _ = room.join(connection: ConnectionID(UInt64(i + 1)),
                      identity: Identity(sub: sub, name: "Person \(i)", role: i == 0 ? .facilitator : .member),
                      now: now)
    }
    func send(_ i: Int, _ command: Command) {
        room.handle(connection: ConnectionID(UInt64(i + 1)), requestID: "r", command: command, now: now)
        room.effects.removeAll()
    }
    send(0, .setPhase(.sharing))
    for turn in 0..<40 {
        for k in 1...3 { send(1 + (turn + k) % (seats - 1), .raiseHand) }
        send(0, .giveFloor(to: nil))
        send(1 + turn % (seats - 1), .reaction(.heart))
        now = now + .seconds(20)
        room.tick(now: now)
        room.effects.removeAll()
    }
    send(0, .mute(subs[seats - 1]))
    room.disconnected(connection: ConnectionID(UInt64(seats)), now: now)
    room.effects.removeAll()
    return room.state
}
