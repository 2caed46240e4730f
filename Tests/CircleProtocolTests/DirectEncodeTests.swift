import CircleJSON
import CircleTestSupport
@testable import CircleProtocol
@testable import CircleRoom
import Testing

/// The welcome's snapshot, `participant_joined` and `round_changed` are written in runs of constant text
/// (`DirectJSONWriter`); they must be byte for byte what the token-at-a-time writer makes, for any strings.
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
            ParticipantView(id: string(), name: string(), role: [.facilitator, .cofacilitator, .member, .observer][int(4)],
                            connection: bool() ? .connected : .reconnecting, mic: bool(), camera: bool(), muted: bool())
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

    static func tokens(_ welcome: Welcome) -> [UInt8] {
        var w = JSONWriter()
        WelcomeEncoder.writeTokens(welcome, into: &w)
        return w.bytes
    }

    static func tokens(_ event: SequencedEvent) -> [UInt8] {
        var w = JSONWriter()
        EventEncoder.writeTokens(event, into: &w)
        return w.bytes
    }

    @Test func welcomeSnapshotsMatchTheTokenWriter() throws {
        var rng = Rng(state: 42)
        for _ in 0..<400 {
            let welcome = Welcome(participant: rng.string(), role: [.facilitator, .member, .observer][rng.int(3)],
                                  seq: rng.seq(), resumed: rng.bool(), catchUp: .snapshot(rng.snapshot()),
                                  timeLeft: TimeLeft(silence: rng.duration(), turn: rng.duration()))
            let direct = WireProtocol.encode(.welcome(welcome))
            #expect(direct == Self.tokens(welcome))
            #expect(direct.count <= WelcomeEncoder.estimatedSize(of: welcome))
            // Still one JSON document the decoder accepts.
            _ = try JSON.parse(direct)
        }
    }

    @Test func theSampleSnapshotsMatchTheTokenWriter() {
        for snapshot in [Samples.snapshot, Samples.bareSnapshot] {
            let welcome = Welcome(participant: "m1", role: .member, seq: 12, resumed: false, catchUp: .snapshot(snapshot),
                                  timeLeft: TimeLeft(silence: .seconds(42), turn: .milliseconds(1500)))
            #expect(WireProtocol.encode(.welcome(welcome)) == Self.tokens(welcome))
        }
    }

    @Test func joinAndRoundEventsMatchTheTokenWriter() {
        var rng = Rng(state: 7)
        for _ in 0..<400 {
            let seq = rng.seq()
            let reason = [LeaveReason.left, .timedOut, .removed][rng.int(3)]
            for event in [RoomEvent.participantJoined(rng.view()), .roundChanged(rng.round()),
                          .participantLeft(rng.string(), reason: reason)] {
                let sequenced = SequencedEvent(seq: seq, event: event)
                let direct = WireProtocol.encode(.event(sequenced))
                #expect(direct == Self.tokens(sequenced))
                #expect(direct.count <= EventEncoder.estimatedSize(of: event))
            }
        }
    }

    /// Inside a replay the direct events follow `[` or another event: the comma rule must be the writer's.
    @Test func replaysMixingDirectAndTokenEventsMatch() {
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
            let text = WireProtocol.encode(.welcome(welcome))
            #expect(text == Self.tokens(welcome))
            let reference = events.map { String(decoding: Self.tokens($0), as: UTF8.self) }.joined(separator: ",")
            #expect(String(decoding: text, as: UTF8.self).contains("\"replay\":[" + reference + "]"))
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
        var reference: [UInt8] = []
        jsonEscape(all, into: &reference)
        var w = JSONWriter()
        w.writeDirect(bound: DirectJSONWriter.bound(all)) { $0.string(all) }
        #expect(w.bytes == reference)
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
