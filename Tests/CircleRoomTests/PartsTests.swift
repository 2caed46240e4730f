import Testing

@testable import CircleRoom

@Suite("Building blocks")
struct PartsTests {
    static func event(_ seq: UInt64) -> SequencedEvent {
        SequencedEvent(seq: seq, event: .lockChanged(locked: seq % 2 == 1))
    }

    @Test func eventLogKeepsTheMostRecentEventsInOrder() {
        var log = EventLog(capacity: 3)
        #expect(log.events(after: 0, latest: 0) == [])
        #expect(log.events(after: 0, latest: 1) == nil)
        for seq in 1...5 { log.append(Self.event(UInt64(seq))) }
        #expect(log.count == 3)
        #expect(log.oldestSeq == 3)
        #expect(log.events(after: 2, latest: 5)?.map(\.seq) == [3, 4, 5])
        #expect(log.events(after: 4, latest: 5)?.map(\.seq) == [5])
        #expect(log.events(after: 5, latest: 5) == [])
        #expect(log.events(after: 1, latest: 5) == nil, "seq 2 fell out")
        #expect(log.events(after: 6, latest: 5) == nil, "from the future")
    }

    @Test func eventLogGrowsWithWhatItHoldsAndWrapsAtCapacity() {
        var log = EventLog(capacity: 100)
        for seq in 1...3 { log.append(Self.event(UInt64(seq))) }
        #expect(log.count == 3)
        for seq in 4...250 { log.append(Self.event(UInt64(seq))) }
        #expect(log.count == 100)
        #expect(log.oldestSeq == 151)
        let events = log.events(after: 150, latest: 250)
        #expect(events?.map(\.seq) == Array(151...250))
        #expect(events?.allSatisfy { $0 == Self.event($0.seq) } == true, "each event comes back with its own seq")
        #expect(log.events(after: 149, latest: 250) == nil)
        #expect(log.events(after: 200, latest: 251) == nil, "seq 251 was never logged")
    }

    @Test func eventLogStartsAfreshWhenASequenceNumberIsSkipped() {
        var log = EventLog(capacity: 10)
        for seq in 1...4 { log.append(Self.event(UInt64(seq))) }
        log.append(Self.event(7))
        #expect(log.count == 1)
        #expect(log.oldestSeq == 7)
        #expect(log.events(after: 4, latest: 7) == nil, "5 and 6 were never logged")
        #expect(log.events(after: 6, latest: 7)?.map(\.seq) == [7])
    }

    @Test func eventLogGivesBackEveryKindOfEventAsItWasLogged() {
        let view = ParticipantView(
            id: "a", name: "Name A", role: .member, connection: .connected, mic: true, camera: false, muted: true)
        let events: [RoomEvent] = [
            .participantJoined(view),
            .participantLeft("b", reason: .timedOut),
            .connectionChanged("a", .reconnecting),
            .mediaChanged("c", mic: false, camera: true),
            .muteChanged(["a", "b", "a long participant id that is not a small string"], muted: true),
            .muteChanged([], muted: false),
            .roleChanged("b", .cofacilitator),
            .queueChanged(["c", "a"], policy: .leastSpoken),
            .floorGiven("a", turnLength: .milliseconds(1500)),
            .floorGiven("b", turnLength: nil),
            .turnEnded("a", reason: .timeUp),
            .roundChanged([
                RoundEntry(participant: "a", status: .done), RoundEntry(participant: "b", status: .passed),
                RoundEntry(participant: "c", status: .waiting),
            ]),
            .roundChanged([]),
            .phaseChanged(.silence, silence: .seconds(60), returnsTo: .close),
            .phaseChanged(.sharing, silence: nil),
            .pacingChanged(Pacing(turnLength: .seconds(90), nudgeBefore: .seconds(10), autoAdvance: true)),
            .lockChanged(locked: true),
            .participantLeft("a", reason: .left),
            .participantJoined(ParticipantView(
                id: "a", name: "Another name", role: .observer, connection: .reconnecting, mic: false, camera: true,
                muted: false)),
            .participantJoined(ParticipantView(
                id: "c", name: "Name C", role: .facilitator, connection: .connected, mic: false, camera: false,
                muted: false)),
            .participantJoined(view),
            .mediaChanged("a", mic: true, camera: true),
            .sessionEnded,
        ]
        var log = EventLog(capacity: 256)
        let sequenced = events.enumerated().map { SequencedEvent(seq: UInt64($0.offset + 1), event: $0.element) }
        for event in sequenced { log.append(event) }
        #expect(log.events(after: 0, latest: UInt64(events.count)) == sequenced)
        #expect(log.events(after: 5, latest: UInt64(events.count)) == Array(sequenced.dropFirst(5)))
    }

    @Test func eventLogKeepsListsRightAcrossManyWrapsOfTheRing() {
        var log = EventLog(capacity: 7)
        var all: [SequencedEvent] = []
        for seq in 1...500 {
            let ids = (0..<(seq % 6)).map { "p\(($0 * 7 + seq) % 11)" }
            let event: RoomEvent =
                switch seq % 4 {
                case 0: .queueChanged(ids, policy: .fifo)
                case 1: .roundChanged(ids.map { RoundEntry(participant: $0, status: seq % 3 == 0 ? .done : .waiting) })
                case 2: .muteChanged(ids, muted: seq % 5 == 0)
                default: .connectionChanged("p\(seq % 11)", .connected)
                }
            all.append(SequencedEvent(seq: UInt64(seq), event: event))
            log.append(all.last!)
            #expect(log.events(after: UInt64(max(0, seq - 7)), latest: UInt64(seq)) == Array(all.suffix(min(seq, 7))))
        }
    }

    @Test func eventLogCapacityIsAtLeastOne() {
        var log = EventLog(capacity: 0)
        log.append(Self.event(1))
        log.append(Self.event(2))
        #expect(log.events(after: 1, latest: 2)?.map(\.seq) == [2])
    }

    @Test func aRateBucketAllowsABurstThenRefillsOnePerInterval() {
        var bucket = RateBucket(burst: 2, now: .seconds(10))
        let take = { (bucket: inout RateBucket, at: UInt64) in
            bucket.take(now: .seconds(at), burst: 2, refill: .seconds(1))
        }
        #expect(take(&bucket, 10))
        #expect(take(&bucket, 10))
        #expect(!take(&bucket, 10))
        #expect(take(&bucket, 11))
        #expect(!take(&bucket, 11))
        #expect(take(&bucket, 100))
        #expect(take(&bucket, 100))
        #expect(!take(&bucket, 100))
    }

    @Test func instantArithmeticSaturates() {
        #expect(Instant.seconds(5) + .seconds(2) == .seconds(7))
        #expect(Instant.seconds(5) - Instant.seconds(7) == .zero)
        #expect(Instant.seconds(7) - Instant.seconds(5) == .seconds(2))
        #expect(Instant.seconds(5) + .seconds(-3) == .seconds(5))
        #expect(Instant(nanoseconds: .max - 1) + .seconds(1) == Instant(nanoseconds: .max))
        #expect(Instant.seconds(1) - Duration.seconds(5) == .zero)
        #expect(Duration.milliseconds(1500).wholeMilliseconds == 1500)
        #expect(Duration.seconds(-1).wholeMilliseconds == 0)
    }

    @Test func wireNamesAreLowerSnakeCaseAndUnique() {
        let commands: [Command] = ControlTests.facilitatorCommands + [
            .leave, .signal(to: .everyone, payload: []), .media(mic: nil, camera: nil), .raiseHand, .lowerHand,
            .pass, .endTurn, .reaction(.nod), .privateWord(text: nil),
        ]
        let events: [RoomEvent] = [
            .participantJoined(ParticipantView(id: "", name: "", role: .member, connection: .connected, mic: false,
                camera: false, muted: false)),
            .participantLeft("", reason: .left), .connectionChanged("", .connected),
            .mediaChanged("", mic: true, camera: true),
            .muteChanged([], muted: true), .roleChanged("", .member), .queueChanged([], policy: .fifo),
            .floorGiven("", turnLength: nil), .turnEnded("", reason: .finished), .roundChanged([]),
            .phaseChanged(.intro, silence: nil), .pacingChanged(.unpaced), .lockChanged(locked: true), .sessionEnded,
        ]
        let names = Set(commands.map(\.wireName)).union(ErrorCode.allCases.map(\.wireName))
        let eventNames = events.map(\.wireName)
        #expect(Set(eventNames).count == events.count)
        for name in names.union(eventNames) {
            #expect(name.allSatisfy { $0.isLowercase || $0 == "_" }, "\(name)")
        }
        #expect(Set(commands.map(\.wireName)).count == 29)
    }

    @Test func roleRawValuesMatchTheTokenClaims() {
        #expect(Role.allCases.map(\.rawValue) == ["facilitator", "cofacilitator", "member", "observer"])
    }
}
