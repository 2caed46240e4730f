import CircleJSON
import CircleTestSupport
@testable import CircleProtocol
@testable import CircleRoom
import Testing

/// The welcome, `participant_joined`, `participant_left` and `round_changed` are written in runs of constant text
/// (`DirectJSONWriter`): for any strings they must parse back to what was written.
@Suite struct DirectEncodeTests {
    /// Strings a token may carry in `sub` and `name`: escapes of every kind, multi-byte UTF-8, empty, long.
    static let hostile: [String] = [
        "", "m1", "Ana María \"Ani\" ✨", "back\\slash", "quote\"", "\n\r\t\u{8}\u{C}", "\u{0}\u{1}\u{1F}\u{7F}",
        String(repeating: "\u{1}", count: 300), String(repeating: "\"\\", count: 200), "👩‍👩‍👧 🇨🇭 \u{2028}\u{2029}",
        String(repeating: "x", count: 5000), "</script>", "é" + String(repeating: "\u{10}", count: 64),
    ]

    /// Random welcomes and events from the hostile strings, on the shared seeded generator.
    struct Rng {
        var generator: SplitMix64
        init(state: UInt64) { generator = SplitMix64(seed: state) }
        mutating func next() -> UInt64 { generator.next() }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func bool() -> Bool { next() & 1 == 1 }
        mutating func string() -> String { DirectEncodeTests.hostile[int(DirectEncodeTests.hostile.count)] }
        mutating func duration() -> Duration? {
            switch int(4) {
            case 0: nil
            case 1: .milliseconds(Int64(int(1_000_000)))
            case 2: .nanoseconds(-5)  // clamped to 0 on the wire
            default: .seconds(Int64.max / 4)
            }
        }
        mutating func view() -> ParticipantView {
            let role: Role = [.facilitator, .cofacilitator, .member, .observer][int(4)]
            return ParticipantView(id: string(), name: string(), role: role,
                                   connection: bool() ? .connected : .reconnecting, mic: bool(), camera: bool(),
                                   muted: bool())
        }
        mutating func round() -> [RoundEntry] {
            (0..<int(12)).map { _ in RoundEntry(participant: string(), status: [.waiting, .done, .passed][int(3)]) }
        }
        mutating func snapshot() -> Snapshot {
            Snapshot(phase: [.intro, .sharing, .silence, .close][int(4)],
                     silenceReturnsTo: bool() ? nil : [.intro, .sharing, .close][int(3)],
                     participants: (0..<int(12)).map { _ in view() },
                     queue: (0..<int(6)).map { _ in string() },
                     queuePolicy: bool() ? .fifo : .leastSpoken,
                     floor: bool() ? nil : string(),
                     turnLength: duration(),
                     round: round(),
                     pacing: Pacing(turnLength: duration(), nudgeBefore: duration() ?? .zero, autoAdvance: bool()),
                     locked: bool())
        }
        mutating func seq() -> UInt64 { [0, 1, 9_007_199_254_740_991, UInt64.max, next()][int(5)] }
    }

    static func parsed(_ message: Outbound) throws -> JSON { try JSON.parse(WireProtocol.encode(message)) }

    static func expected(_ view: ParticipantView) -> [(String, JSON)] {
        [("participant", .string(view.id)), ("name", .string(view.name)), ("role", .string(view.role.rawValue)),
         ("connection", .string(view.connection.wireName)), ("mic", .bool(view.mic)), ("camera", .bool(view.camera)),
         ("muted", .bool(view.muted))]
    }

    static func expected(_ round: [RoundEntry]) -> JSON {
        .array(round.map {
            .object(JSONObject([("participant", .string($0.participant)), ("status", .string($0.status.wireName))]))
        })
    }

    @Test func welcomeSnapshotsParseBackToTheirValues() throws {
        var rng = Rng(state: 42)
        for _ in 0..<400 {
            let snapshot = rng.snapshot()
            let welcome = Welcome(participant: rng.string(), role: [.facilitator, .member, .observer][rng.int(3)],
                                  seq: rng.seq(), resumed: rng.bool(), catchUp: .snapshot(snapshot),
                                  timeLeft: TimeLeft(silence: rng.duration(), turn: rng.duration()))
            #expect(WireProtocol.encode(.welcome(welcome)).count <= WelcomeEncoder.estimatedSize(of: welcome))
            let object = try Self.parsed(.welcome(welcome))
            #expect(object["participant"] == .string(welcome.participant))
            let sent = try #require(object["snapshot"])
            let participants = snapshot.participants.map { JSON.object(JSONObject(Self.expected($0))) }
            #expect(sent["participants"] == .array(participants))
            #expect(sent["queue"] == .array(snapshot.queue.map { .string($0) }))
            #expect(sent["floor"] == snapshot.floor.map { .string($0) })
            #expect(sent["round"] == Self.expected(snapshot.round))
        }
    }

    @Test func joinLeaveAndRoundEventsParseBackToTheirValues() throws {
        var rng = Rng(state: 7)
        for _ in 0..<400 {
            let seq = rng.seq()
            let view = rng.view(), round = rng.round(), leaving = rng.string()
            let reason = [LeaveReason.left, .timedOut, .removed][rng.int(3)]
            for event in [RoomEvent.participantJoined(view), .roundChanged(round),
                          .participantLeft(leaving, reason: reason)] {
                let sequenced = SequencedEvent(seq: seq, event: event)
                #expect(WireProtocol.encode(.event(sequenced)).count <= EventEncoder.estimatedSize(of: event))
                let object = try Self.parsed(.event(sequenced))
                switch event {
                case .participantJoined:
                    for (key, value) in Self.expected(view) { #expect(object[key] == value) }
                case .roundChanged:
                    #expect(object["round"] == Self.expected(round))
                default:
                    #expect(object["participant"] == .string(leaving))
                    #expect(object["reason"] == .string(reason.wireName))
                }
            }
        }
    }

    /// Inside a replay the direct events follow `[` or another event: the comma rule must be the writer's.
    @Test func replaysMixingDirectAndTokenEventsAreOneArrayOfTheEvents() throws {
        var rng = Rng(state: 99)
        for _ in 0..<100 {
            let events = (0..<rng.int(6)).map { i -> SequencedEvent in
                let event: RoomEvent = switch rng.int(4) {
                case 0: .participantJoined(rng.view())
                case 1: .roundChanged(rng.round())
                case 2: .participantLeft(rng.string(), reason: .timedOut)
                default: .lockChanged(locked: rng.bool())
                }
                return SequencedEvent(seq: UInt64(i + 1), event: event)
            }
            let welcome = Welcome(participant: rng.string(), role: .member, seq: 9, resumed: true,
                                  catchUp: .replay(events), timeLeft: TimeLeft())
            let object = try Self.parsed(.welcome(welcome))
            #expect(object["replay"] == .array(try events.map { try Self.parsed(.event($0)) }))
            #expect(object["participant"] == .string(welcome.participant))
        }
    }

    @Test func aDirectValueAfterAnotherValueGetsItsComma() {
        var w = JSONWriter()
        w.beginArray()
        w.int(1)
        let event = SequencedEvent(seq: 3, event: .roundChanged([]))
        EventEncoder.write(event, into: &w)
        EventEncoder.write(event, into: &w)
        w.endArray()
        #expect(String(decoding: w.bytes, as: UTF8.self)
            == #"[1,{"type":"round_changed","seq":3,"round":[]},{"type":"round_changed","seq":3,"round":[]}]"#)
    }

    @Test func everyByteIsEscapedAsJSONEscapeDoes() {
        let all = String(decoding: (0..<128).map { UInt8($0) }, as: UTF8.self)
        var reference = JSONWriter()
        reference.string(all)
        var w = JSONWriter()
        w.writeDirect(bound: DirectJSONWriter.bound(all)) { $0.string(all) }
        #expect(w.bytes == reference.bytes)
    }

    @Test func integersAtTheEdgesAreWrittenExactlyWithinTheirBound() {
        var values = [0, 1, -1, 9, 10, -10, 99, 100, Int.max, Int.min, Int.max - 1, Int.min + 1]
        var power = 1
        for _ in 0..<18 {
            power *= 10
            values += [power - 1, power, -power, -(power - 1)]
        }
        for value in values {
            var w = JSONWriter()
            w.writeDirect(bound: DirectJSONWriter.intBound) { $0.int(value) }
            #expect(String(decoding: w.bytes, as: UTF8.self) == String(value))
        }
    }

    /// Wire names are written unescaped within a fixed reservation: every one must be short plain ASCII.
    @Test func everyWireNameFitsItsReservation() {
        let names = [Role.facilitator, .cofacilitator, .member, .observer].map(\.rawValue)
            + [Phase.intro, .sharing, .silence, .close, .ended].map(\.wireName)
            + [QueuePolicy.fifo, .leastSpoken].map(\.wireName)
            + [ConnectionState.connected, .reconnecting].map(\.wireName)
            + [RoundStatus.waiting, .done, .passed].map(\.wireName)
            + [LeaveReason.left, .timedOut, .removed].map(\.wireName)
        for name in names {
            #expect(name.utf8.count + 2 <= DirectJSONWriter.wireNameBound)
            var w = JSONWriter()
            w.writeDirect(bound: DirectJSONWriter.wireNameBound) { $0.wireName(name) }
            var reference = JSONWriter()
            reference.string(name)
            #expect(w.bytes == reference.bytes)
        }
    }

    @Test func integersAreExact() {
        for value in [0, 1, 9, 10, 99, 100, -1, -10, 1_234_567_890, Int.max, Int.min + 1, Int.min] {
            var w = JSONWriter()
            w.writeDirect(bound: DirectJSONWriter.intBound) { $0.int(value) }
            #expect(String(decoding: w.bytes, as: UTF8.self) == String(value))
        }
    }
}
