#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import CircleRoom

/// Heap held by the room engine per idle joined participant, shaped like the load test: rooms of one facilitator
/// and nine members who only join (intro phase, so each member also enters the round), the effects taken back after
/// each call as the service does. Prints the figure; asserts a bound that a regression to the old layout breaks.
@Suite struct MemoryTests {
    static let rooms = 1000
    static let members = 9

    /// Bytes in use on glibc's heap (`mallinfo2()`: `uordblks + hblkhd`), or `nil` where it cannot be read.
    /// Glibc's Swift module does not import `<malloc.h>`; the function is looked up and called through the x86-64
    /// C ABI, where a large struct is returned through a hidden pointer in the first argument register.
    static func heapInUse() -> Int? {
        #if os(Linux) && arch(x86_64)
        typealias MallInfo2 = @convention(c) (UnsafeMutableRawPointer) -> UnsafeMutableRawPointer
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallinfo2") else { return nil }
        let mallinfo2 = unsafeBitCast(symbol, to: MallInfo2.self)
        var fields = [Int](repeating: 0, count: 10)  // arena, ordblks, smblks, hblks, hblkhd, usmblks, …, uordblks
        fields.withUnsafeMutableBytes { _ = mallinfo2($0.baseAddress!) }
        return fields[7] + fields[4]
        #else
        return nil
        #endif
    }

    /// Builds the rooms and returns the heap bytes they hold per participant, or `nil` without `mallinfo2`.
    static func heapBytesPerParticipant() -> Int? {
        guard let before = heapInUse() else { return nil }
        var rooms: [Room] = []
        rooms.reserveCapacity(Self.rooms)
        var connection: UInt64 = 1
        let start = Instant.seconds(1000)
        let baseline = heapInUse()! - before  // the array of rooms itself
        for index in 0..<Self.rooms {
            let room = Room(id: "load-6f1c2ab9-\(index)", now: start)
            for seat in 0...Self.members {
                let identity = seat == 0
                    ? Identity(sub: "f", name: "Facilitator", role: .facilitator)
                    : Identity(sub: "m\(seat)", name: "Member \(seat)", role: .member)
                room.join(connection: ConnectionID(connection), identity: identity, now: start)
                connection += 1
                room.effects = []  // the service lends each call one shared buffer and takes it back
            }
            rooms.append(room)
        }
        let after = heapInUse()!
        withExtendedLifetime(rooms) {}
        return (after - before - baseline) / (Self.rooms * (Self.members + 1))
    }

    /// The figure: `swift test --filter MemoryTests` (alone, so no other test allocates or frees meanwhile).
    @Test func idleJoinedParticipantHoldsLittleHeap() {
        // The first build warms the allocator up (its arenas grow); the five after it are the figure.
        let figures = Array((0..<6).compactMap { _ in Self.heapBytesPerParticipant() }.dropFirst())
        guard let low = figures.min(), let high = figures.max() else { return }
        print("room heap per idle joined participant: \(figures) B")
        print(
            "sizes: RoomState \(MemoryLayout<RoomState>.size), strides: seat \(MemoryLayout<Participant>.stride),"
                + " stats \(MemoryLayout<SpeakingStats>.stride), round entry \(MemoryLayout<RoundEntry>.stride),"
                + " effect \(MemoryLayout<RoomEffect>.stride), event \(MemoryLayout<RoomEvent>.stride)")
        // Other suites run in parallel and allocate and free too; only an undisturbed measurement is judged.
        if high - low <= max(16, low / 20) {
            // 2,444 B before the compaction (dictionaries per key, a log of 256 reserved 56-byte events), 802 B with
            // the log compacted but the dictionaries kept, 391 B with arrays grown by a quarter and the effects
            // buffer kept by each room; about 330 B now (grown by two, the buffer lent per call).
            #expect(low < 360, "the room's share of the 1 KiB budget per idle participant")
        }
    }
}
