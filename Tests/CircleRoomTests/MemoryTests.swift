#if canImport(Glibc)
import Glibc
#endif
import CircleTestSupport
import Foundation
import Testing

@testable import CircleRoom

/// Heap held by the room engine per idle joined participant, shaped like the load test: rooms of one facilitator
/// and nine members who only join (intro phase, so each member also enters the round), the effects taken back after
/// each call as the service does. Measured in a child process that runs only this, as other suites allocate here.
@Suite struct MemoryTests {
    /// Set in the child process: measure and print, don't spawn.
    static let childVariable = "CIRCLE_MEMORY_TEST_CHILD"
    static let figurePrefix = "room heap per idle joined participant (B):"

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

    @Test func aSeatKeepsItsOptionalsInTheViewsPadding() {
        #expect(MemoryLayout<Participant>.stride == 72)
        #expect(MemoryLayout<RateBucket>.size == 12)
    }

    @Test func idleJoinedParticipantHoldsLittleHeap() throws {
        if ProcessInfo.processInfo.environment[Self.childVariable] != nil { return Self.measureAndPrint() }
        var environment = ProcessInfo.processInfo.environment
        environment[Self.childVariable] = "1"
        let child = try runProcess(Self.testExecutable(), [
            "--testing-library", "swift-testing", "--filter", "CircleRoomTests.MemoryTests",
        ], environment: environment)
        let line = (child.stdout + child.stderr).split(separator: "\n").first { $0.hasPrefix(Self.figurePrefix) }
        let figures = try #require(line, "the child printed no figure (exit \(child.status)):\n\(child.stderr)")
            .dropFirst(Self.figurePrefix.count).split(separator: " ").compactMap { Int($0) }
        try #require(!figures.isEmpty, "no mallinfo2 here: nothing measured")
        // About 330 B today, the room's share of the 1 KiB budget per idle participant.
        #expect(figures.min()! < 360, "room heap per idle joined participant: \(figures) B")
    }

    /// The first build warms the allocator up (its arenas grow); the five after it are the figure.
    static func measureAndPrint() {
        let figures = (0..<6).compactMap { _ in heapBytesPerParticipant() }.dropFirst()
        print(figurePrefix, figures.map(String.init).joined(separator: " "))
    }

    /// This test process's executable, to run again as the child.
    static func testExecutable() throws -> URL {
        var path = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &path, path.count - 1)
        try #require(count > 0, "cannot read /proc/self/exe")
        return URL(fileURLWithPath: String(decoding: path[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}
