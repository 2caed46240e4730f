import CircleProtocol
import CircleRoom
import Testing

/// Durations on the wire stop at what the engine's clock holds (UInt64 nanoseconds): the largest one decodes and
/// encodes back as it came; one past it is refused as `invalid` (found by the protocol fuzzer: `520888e8` ms decoded,
/// then went back out as 18446744073709).
@Suite struct DurationRangeTests {
    static let largest = 18_446_744_073_709

    @Test func theLargestDurationIsTheClocksRange() {
        #expect(WireProtocol.maxDurationMilliseconds == Self.largest)
        #expect(Duration.milliseconds(Int64(Self.largest)).wholeMilliseconds == Int64(Self.largest))
    }

    @Test(arguments: [
        #"{"type":"start_silence","id":"r1","silence_ms":520888e8}"#,
        #"{"type":"start_silence","id":"r1","silence_ms":18446744073710}"#,
        #"{"type":"start_silence","id":"r1","silence_ms":9007199254740992}"#,
        #"{"type":"set_pacing","id":"r1","turn_length_ms":18446744073710,"nudge_before_ms":0,"auto_advance":true}"#,
        #"{"type":"set_pacing","id":"r1","nudge_before_ms":1.8446744073710e13,"auto_advance":false}"#,
    ])
    func aDurationPastTheClockIsInvalid(_ text: String) {
        guard let failure = Wire.failure(text) else { return }
        #expect(failure.code == .invalid)
        #expect(failure.id == "r1")
        #expect(failure.message.hasSuffix("must be at most 18446744073709 ms"))
    }

    @Test(arguments: [
        #"{"type":"start_silence","silence_ms":18446744073709}"#,
        #"{"type":"set_pacing","turn_length_ms":18446744073709,"nudge_before_ms":18446744073709,"auto_advance":true}"#,
        #"{"type":"start_silence","silence_ms":0}"#,
    ])
    func durationsUpToTheLargestRoundTrip(_ text: String) {
        guard let request = Wire.request(text) else { return }
        let encoded = WireProtocol.encode(request)
        #expect(String(decoding: encoded, as: UTF8.self) == text)
        #expect(WireProtocol.decode(encoded) == .success(request))
    }
}
