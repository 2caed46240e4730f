// The scanning request decoder (WireProtocol.decode) against the tree-based decoder it replaced
// (Tests/CircleProtocolTests/Support/ReferenceDecoder.swift, compiled in): the same request or the same failure for
// every text, under the default and under tight limits. A decoded request encodes to text that decodes to it again;
// so does a request built from the fuzz bytes; and every error reply is JSON that reads back as what was sent.
@testable import CircleProtocol
import CircleJSON
import CircleRoom

let limitSets = [ProtocolLimits(), ProtocolLimits(maxDepth: 2, maxStringBytes: 8, maxMembers: 3, maxRequestIDBytes: 3)]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProtocol(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: count)
    for limits in limitSets {
        let scanned = WireProtocol.decode(input, limits: limits)
        let reference = ReferenceDecoder.decode(input, limits: limits)
        require(scanned == reference, "decoders differ: \(scanned) vs reference \(reference)")
        switch scanned {
        case .success(let request): checkRoundTrip(request, limits, decoded: true)
        case .failure(let failure): checkReply(failure)
        }
    }
    checkRoundTrip(request(from: FuzzReader(Array(input))), ProtocolLimits(), decoded: false)
    return 0
}

/// Encoding a request and decoding the text gives the request back (unless a field is over `limits`). A request
/// the decoder made must be one the encoder can write exactly: durations of whole milliseconds the engine's clock
/// holds, positions within 2^53.
func checkRoundTrip(_ request: ClientRequest, _ limits: ProtocolLimits, decoded: Bool) {
    guard request.command.isExpressible else {
        return require(!decoded, "the decoder accepted what the encoder cannot write: \(request)")
    }
    let text = WireProtocol.encode(request)
    switch WireProtocol.decode(text, limits: limits) {
    case .success(let again):
        let written = String(decoding: text, as: UTF8.self)
        require(again == request, "\(request) encodes as \(written), decodes as \(again)")
    case .failure(let failure):
        require(!fitsLimits(request, limits, text),
                "\(request) encodes as \(String(decoding: text, as: UTF8.self)), refused: \(failure)")
        require(failure.code == .invalid || failure.code == .tooLarge, "refused with \(failure.code)")
    }
}

/// The largest duration on the wire: whole milliseconds the engine's nanosecond clock (UInt64) can hold.
let maxWireDuration = Duration.milliseconds(Int64(UInt64.max / 1_000_000))

/// Whether a request built from fuzz bytes stays within `limits` (ids, strings, the message size).
func fitsLimits(_ request: ClientRequest, _ limits: ProtocolLimits, _ text: [UInt8]) -> Bool {
    if let id = request.id, id.isEmpty || id.utf8.count > limits.maxRequestIDBytes { return false }
    return text.count <= limits.maxMessageBytes
        && request.command.strings.allSatisfy { $0.utf8.count <= limits.maxStringBytes }
}

/// The error reply for a failure is one JSON object holding the type, the code, the id and the message.
func checkReply(_ failure: DecodeFailure) {
    let text = WireProtocol.encode(failure.reply)
    guard case .object(let object)? = try? JSON.parse(text) else {
        return require(false, "an error reply is not a JSON object: \(String(decoding: text, as: UTF8.self))")
    }
    require(object["type"] == "error" && object["code"]?.stringValue == failure.code.wireName
            && object["message"]?.stringValue == failure.message && object["id"]?.stringValue == failure.id,
            "an error reply does not read back: \(String(decoding: text, as: UTF8.self))")
}

/// A request of any type, its fields drawn from the fuzz bytes (strings of any bytes, durations of any size).
func request(from reader: FuzzReader) -> ClientRequest {
    var r = reader
    let id: String? = r.bool() ? r.string(max: 80) : nil
    func participant() -> String { r.string(max: 40) }
    func duration() -> Duration {
        switch r.below(4) {
        case 0: .milliseconds(Int64(r.below(256)) * 1000)
        case 1: .milliseconds(Int64(truncatingIfNeeded: r.uint64() >> 10))  // up to 2^54 ms
        case 2: .milliseconds(Int64(UInt64.max / 1_000_000) + Int64(r.below(3)) - 1)  // around the largest
        default: .milliseconds(Int64(truncatingIfNeeded: r.uint64() >> 1))  // far past it
        }
    }
    let command: Command
    switch r.below(29) {
    case 0: command = .leave
    case 1:
        let payloads = ["1", "null", #"{"sdp":"v=0\r\n"}"#, #"[1,"x",{"a":[]}]"#, #""\u00e9""#, "-0.5e3"]
        let target: SignalTarget = r.bool() ? .everyone : .participant(participant())
        command = .signal(to: target, payload: Array(r.pick(payloads).utf8))
    case 2:
        let mic: Bool? = r.bool() ? r.bool() : nil
        command = .media(mic: mic, camera: mic == nil || r.bool() ? r.bool() : nil)
    case 3: command = .raiseHand
    case 4: command = .lowerHand
    case 5: command = .pass
    case 6: command = .endTurn
    case 7: command = .reaction(r.pick(ReactionKind.allCases))
    case 8: command = .privateWord(text: r.bool() ? r.string(max: 200) : nil)
    case 9: command = .setPhase(r.pick(Phase.allCases))
    case 10: command = .advanceRound
    case 11: command = .startSilence(duration())
    case 12: command = .endSilence
    case 13: command = .giveFloor(to: r.bool() ? participant() : nil)
    case 14: command = .moveInQueue(participant(), to: r.below(256))
    case 15: command = .removeFromQueue(participant())
    case 16: command = .clearQueue
    case 17: command = .setQueuePolicy(r.pick(QueuePolicy.allCases))
    case 18:
        let turn: Duration? = r.bool() ? duration() : nil
        command = .setPacing(Pacing(turnLength: turn, nudgeBefore: duration(), autoAdvance: r.bool()))
    case 19: command = .mute(participant())
    case 20: command = .unmute(participant())
    case 21: command = .muteAllButSpeaker
    case 22: command = .lock
    case 23: command = .unlock
    case 24: command = .remove(participant())
    case 25: command = .promote(participant())
    case 26: command = .endSession
    case 27: command = .requestStats
    default: command = .moveInQueue(participant(), to: Int(r.uint64() >> 10))
    }
    return ClientRequest(id: id, command: command)
}

extension Command {
    /// Whether the wire can carry this command exactly. `set_phase` to `ended` is version 1's way to end a session:
    /// it decodes as `end_session` (ProtocolAliases), so no message decodes as the engine's `setPhase(.ended)`.
    var isExpressible: Bool {
        if case .moveInQueue(_, let position) = self, position > 1 << 53 || position < 0 { return false }
        if case .setPhase(.ended) = self { return false }
        return durations.allSatisfy { d in
            d >= .zero && d <= maxWireDuration && d == .milliseconds(d.wholeMilliseconds)
        }
    }

    /// The durations a command carries.
    var durations: [Duration] {
        switch self {
        case .startSilence(let d): [d]
        case .setPacing(let p): [p.nudgeBefore] + (p.turnLength.map { [$0] } ?? [])
        default: []
        }
    }

    /// The strings a command carries.
    var strings: [String] {
        switch self {
        case .signal(.participant(let p), _), .moveInQueue(let p, _), .removeFromQueue(let p), .mute(let p),
            .unmute(let p), .remove(let p), .promote(let p), .giveFloor(to: let p?):
            [p]
        case .privateWord(let t?): [t]
        default: []
        }
    }
}
