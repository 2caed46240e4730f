import CircleJSON
import Glibc
import CircleRoom
@testable import CircleRooms
@testable import CircleServer
import Testing

/// What a room and a connection keep between calls: one of each per group and per participant, so it is kept small.
@Suite struct RoomFootprintTests {
    private func type(_ m: JSON) -> String { m["type"]?.stringValue ?? "" }

    @Test func aJoinedConnectionsRoomStateIsFortyBytes() {
        // One per joined participant in the service's slot table: the bucket's 32-bit count leaves room for the
        // serial, the flood window and the strikes in its last word.
        #expect(MemoryLayout<RateBucket>.size == 12)
        #expect(MemoryLayout<RoomSlot>.stride == 40)
        // One attendance row per person in a session, when a store or webhooks keep attendance.
        #expect(MemoryLayout<SessionAttendance.Row>.stride == 72)
    }

    @Test func aJoinedConnectionIsOneSmallAllocation() throws {
        let env = try roomServer()
        let m = Participant(env, room: "footprint", sub: "f1", name: "Facilitator", role: .facilitator)
        #expect(m.waitFor(type: "welcome") != nil)
        let connection = try #require(env.server.connections.first)
        // The small fields fill the padding after `phase`: a joined connection fits a 160-byte malloc chunk.
        typealias UsableSize = @convention(c) (UnsafeMutableRawPointer?) -> Int  // <malloc.h> is not in Glibc's module
        let symbol = try #require(dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_usable_size"))
        let size = unsafeBitCast(symbol, to: UsableSize.self)(Unmanaged.passUnretained(connection).toOpaque())
        #expect(size <= 152, "a ServerConnection now takes \(size) usable bytes")
        env.shutDown()
    }

    @Test func aRoomAtRestHoldsNoEffectsBufferAndNoTimerUntilItHasADeadline() throws {
        var service: RoomService?
        let env = try TestServer { config in config.port = 0 } application: { server in
            let made = RoomService(server: server, configuration: RoomServiceConfiguration(secret: testSecret))
            service = made
            return made
        }
        let room = "footprint"
        let f = Participant(env, room: room, sub: "fac", name: "Facilitator", role: .facilitator)
        #expect(f.waitFor(type: "welcome") != nil)
        let m = Participant(env, room: room, sub: "m1", name: "Member", role: .member)
        #expect(m.waitFor(type: "welcome") != nil)
        #expect(f.request("set_phase", [("phase", "sharing")]).map(type) == "ack")
        #expect(m.request("raise_hand").map(type) == "ack")
        // Joins, a broadcast and a queue change made effects; none of their buffer stays with the room, and a
        // room without a deadline has no timer.
        let quiet = service?.restingState(of: room)
        #expect(quiet?.effectsCapacity == 0)
        #expect(quiet?.hasTimer == false)
        // A paced turn has a deadline: the room gets its timer, and the timer still works.
        #expect(f.request("set_pacing", [("turn_length_ms", 1000), ("nudge_before_ms", 500), ("auto_advance", true)])
            .map(type) == "ack")
        #expect(f.request("give_floor").map(type) == "ack")
        #expect(service?.restingState(of: room)?.hasTimer == true)
        #expect(m.waitFor(type: "turn_time_up") != nil)
        #expect(service?.restingState(of: room)?.effectsCapacity == 0)
        env.shutDown()
    }

    @Test func connectionTimesWrapInThirtyTwoBits() {
        // The loop's milliseconds kept in 32 bits: spans across the wrap measure right, and "none" (0) never occurs.
        let justBefore: UInt64 = (1 << 32) - 10, justAfter: UInt64 = (1 << 32) + 5
        #expect(ServerConnection.elapsed(since: ServerConnection.clock(justBefore), now: justAfter) == 15)
        #expect(ServerConnection.elapsed(since: ServerConnection.clock(1_000), now: 16_000) == 15_000)
        #expect(ServerConnection.clock(1 << 32) == 1)
        #expect(ServerConnection.clock(0) == 1)
        let eightDays: UInt64 = 8 * 86_400_000
        let start: UInt64 = (3 << 32) + 7
        #expect(ServerConnection.elapsed(since: ServerConnection.clock(start), now: start + eightDays) == eightDays)
    }
}

extension RoomService {
    /// What a room holds between calls: the capacity of its effects buffer (0: none held) and whether it has a timer.
    func restingState(of roomID: String) -> (effectsCapacity: Int, hasTimer: Bool)? {
        rooms[roomID].map { ($0.room.effects.capacity, $0.timer != nil) }
    }
}
