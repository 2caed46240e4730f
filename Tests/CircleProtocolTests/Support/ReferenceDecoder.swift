// The tree-based request decoder as it was before the scanning decoder replaced it (commit ccf7f03), kept as the
// reference the new decoder must agree with, message for message, failure for failure.
@testable import CircleProtocol
import CircleJSON
#if canImport(CircleJSONTestSupport)
import CircleJSONTestSupport  // compiled into the same module by Scripts/fuzz
#endif
import CircleRoom

enum ReferenceDecoder {
    /// The member whose value is relayed byte for byte.
    private static let rawMembers = ["payload"]

    static func decode(_ text: UnsafeRawBufferPointer, limits: ProtocolLimits) -> Result<ClientRequest, DecodeFailure> {
        guard text.count <= limits.maxMessageBytes else {
            return failure(text, limits, .tooLarge, "message too large")
        }
        guard startsWithObject(text) else {
            return failure(text, limits, .invalid, "a message must be a JSON object")
        }
        let capture: JSONObjectCapture
        do {
            capture = try JSON.parseTopObject(text, rawMembers: rawMembers, limits: limits.json)
        } catch {
            if error.isStringTooLong { return failure(text, limits, .tooLarge, error.message) }
            return failure(text, limits, .invalid, "malformed JSON: \(error.message)")
        }
        let id: RequestID?
        do {
            id = try requestID(capture.object, limits: limits)
        } catch {
            return .failure(DecodeFailure(id: nil, code: .invalid, message: error.message))
        }
        do {
            return .success(ClientRequest(id: id, command: try command(capture, in: text)))
        } catch {
            return .failure(DecodeFailure(id: id, code: .invalid, message: error.message))
        }
    }

    /// The optional request id: a string of 1 … `maxRequestIDBytes` UTF-8 bytes.
    private static func requestID(_ object: JSONObject, limits: ProtocolLimits) throws(TreeFieldError) -> RequestID? {
        switch object["id"] {
        case nil:
            return nil
        case .string(let id) where !id.isEmpty && id.utf8.count <= limits.maxRequestIDBytes:
            return id
        case .string:
            throw TreeFieldError(message: "`id` must be 1 to \(limits.maxRequestIDBytes) bytes")
        default:
            throw TreeFieldError(message: "`id` must be a string")
        }
    }

    /// The command: a known `type`, no member it does not define, and its own fields well typed.
    private static func command(_ capture: JSONObjectCapture, in text: UnsafeRawBufferPointer) throws(TreeFieldError)
        -> Command
    {
        let fields = TreeFields(object: capture.object)
        guard let kind = TreeCommandKind(rawValue: try fields.string("type")) else {
            throw TreeFieldError(message: "unknown type")
        }
        let allowed = kind.fields
        for (key, _) in capture.object where key != "type" && key != "id" && !allowed.contains(key) {
            throw TreeFieldError(message: "unknown field")
        }
        return try command(kind, fields, payload: capture.rawRanges[0], in: text)
    }

    /// The command of `kind` from its fields. `payload` is the byte range of the `payload` member in `text`.
    private static func command(
        _ kind: TreeCommandKind, _ fields: TreeFields, payload: Range<Int>?, in text: UnsafeRawBufferPointer
    ) throws(TreeFieldError) -> Command {
        switch kind {
        case .leave: return .leave
        case .signal: return .signal(to: try signalTarget(fields), payload: try signalPayload(payload, in: text))
        case .media:
            let mic = try fields.optionalBool("mic"), camera = try fields.optionalBool("camera")
            guard mic != nil || camera != nil else { throw TreeFieldError(message: "`mic` or `camera` is required") }
            return .media(mic: mic, camera: camera)
        case .raiseHand: return .raiseHand
        case .lowerHand: return .lowerHand
        case .pass: return .pass
        case .endTurn: return .endTurn
        case .reaction: return .reaction(try fields.wireEnum("kind", as: ReactionKind.self))
        case .privateWord: return .privateWord(text: try fields.optionalString("text"))
        case .setPhase:
            // Version 1's `set_phase ended` is `end_session` (PROTOCOL.md "Versions").
            if fields.object["phase"]?.stringValue == "ended" { return .endSession }
            return .setPhase(try fields.wireEnum("phase", as: Phase.self))
        case .advanceRound: return .advanceRound
        case .startSilence: return .startSilence(try fields.milliseconds("silence_ms"))
        case .endSilence: return .endSilence
        case .giveFloor: return .giveFloor(to: try fields.optionalString("participant"))
        case .moveInQueue: return .moveInQueue(try fields.string("participant"), to: try fields.nonNegativeInteger("position"))
        case .removeFromQueue: return .removeFromQueue(try fields.string("participant"))
        case .clearQueue: return .clearQueue
        case .setQueuePolicy:
            // Version 1 named the field `policy`; read as `queue_policy`, errors name the version 2 field.
            let v1 = fields.object["policy"]
            if v1 != nil, fields.object["queue_policy"] != nil {
                throw TreeFieldError(message: "`policy` is the version 1 name of `queue_policy`: send one")
            }
            guard let value = v1 ?? fields.object["queue_policy"] else {
                throw TreeFieldError(message: "missing field `queue_policy`")
            }
            guard let name = value.stringValue else { throw TreeFieldError(message: "`queue_policy` must be a string") }
            guard let policy = QueuePolicy(rawValue: name) else {
                throw TreeFieldError(message: "unknown value for `queue_policy`")
            }
            return .setQueuePolicy(policy)
        case .setPacing:
            return .setPacing(
                Pacing(
                    turnLength: try fields.optionalMilliseconds("turn_length_ms"),
                    nudgeBefore: try fields.milliseconds("nudge_before_ms"),
                    autoAdvance: try fields.bool("auto_advance")))
        case .mute: return .mute(try fields.string("participant"))
        case .unmute: return .unmute(try fields.string("participant"))
        case .muteAllButSpeaker: return .muteAllButSpeaker
        case .lock: return .lock
        case .unlock: return .unlock
        case .remove: return .remove(try fields.string("participant"))
        case .promote: return .promote(try fields.string("participant"))
        case .endSession: return .endSession
        case .requestStats: return .requestStats
        case .privateWordSeen: return .privateWordSeen(try fields.string("participant"))
        }
    }

    /// Exactly one of `to` (a participant id) or `to_all: true`.
    private static func signalTarget(_ fields: TreeFields) throws(TreeFieldError) -> SignalTarget {
        let to = try fields.optionalString("to")
        let toAll = try fields.optionalBool("to_all") ?? false
        switch (to, toAll) {
        case (let id?, false): return .participant(id)
        case (nil, true): return .everyone
        case (.some, true): throw TreeFieldError(message: "`to` and `to_all` exclude each other")
        case (nil, false): throw TreeFieldError(message: "missing field `to` (or `to_all`: true)")
        }
    }

    /// The payload's bytes exactly as the client wrote them (already validated as one JSON value).
    private static func signalPayload(_ range: Range<Int>?, in text: UnsafeRawBufferPointer) throws(TreeFieldError) -> [UInt8] {
        guard let range else { throw TreeFieldError(message: "missing field `payload`") }
        return Array(UnsafeRawBufferPointer(rebasing: text[range]))
    }

    /// Whether the first byte after leading whitespace opens an object.
    private static func startsWithObject(_ text: UnsafeRawBufferPointer) -> Bool {
        for byte in text where !isWhitespace(byte) { return byte == UInt8(ascii: "{") }
        return false
    }

    private static func failure(
        _ text: UnsafeRawBufferPointer, _ limits: ProtocolLimits, _ code: ErrorCode, _ message: String
    ) -> Result<ClientRequest, DecodeFailure> {
        let id = RequestIDScanner.scan(text, limits: limits)
        return .failure(DecodeFailure(id: id, code: code, message: message))
    }
}


/// Why one field of an otherwise well-formed message was refused; `message` is fixed text.
struct TreeFieldError: Error {
    var message: String
}

/// Typed reads of a parsed message's members. Every read either returns a well-typed value or throws a
/// ``TreeFieldError`` naming the protocol's field (never the input).
struct TreeFields {
    let object: JSONObject

    /// A required string.
    func string(_ name: String) throws(TreeFieldError) -> String {
        guard let value = object[name] else { throw missing(name) }
        guard let string = value.stringValue else { throw illTyped(name, "a string") }
        return string
    }

    /// An optional string (absent → nil; `null` is ill-typed).
    func optionalString(_ name: String) throws(TreeFieldError) -> String? {
        guard object[name] != nil else { return nil }
        return try string(name)
    }

    /// A required Boolean.
    func bool(_ name: String) throws(TreeFieldError) -> Bool {
        guard let value = object[name] else { throw missing(name) }
        guard let bool = value.boolValue else { throw illTyped(name, "true or false") }
        return bool
    }

    /// An optional Boolean.
    func optionalBool(_ name: String) throws(TreeFieldError) -> Bool? {
        guard object[name] != nil else { return nil }
        return try bool(name)
    }

    /// A required non-negative integer (at most 2^53).
    func nonNegativeInteger(_ name: String) throws(TreeFieldError) -> Int {
        guard let value = object[name] else { throw missing(name) }
        guard let int = value.intValue, int >= 0 else { throw illTyped(name, "a non-negative integer") }
        return int
    }

    /// A required duration in whole milliseconds, at most `WireProtocol.maxDurationMilliseconds` (added with that
    /// limit, so the two decoders still agree).
    func milliseconds(_ name: String) throws(TreeFieldError) -> Duration {
        let ms = try nonNegativeInteger(name)
        guard ms <= WireProtocol.maxDurationMilliseconds else {
            throw TreeFieldError(message: "`\(name)` must be at most \(WireProtocol.maxDurationMilliseconds) ms")
        }
        return .milliseconds(Int64(ms))
    }

    /// An optional duration in whole milliseconds.
    func optionalMilliseconds(_ name: String) throws(TreeFieldError) -> Duration? {
        guard object[name] != nil else { return nil }
        return try milliseconds(name)
    }

    /// A required string that must be one of an enumeration's wire names.
    func wireEnum<Value: RawRepresentable<String>>(_ name: String, as _: Value.Type) throws(TreeFieldError) -> Value {
        guard let value = Value(rawValue: try string(name)) else { throw TreeFieldError(message: "unknown value for `\(name)`") }
        return value
    }

    private func missing(_ name: String) -> TreeFieldError {
        TreeFieldError(message: "missing field `\(name)`")
    }

    private func illTyped(_ name: String, _ expected: String) -> TreeFieldError {
        TreeFieldError(message: "`\(name)` must be \(expected)")
    }
}
/// Every client message `type`, with the fields each may carry besides `type` and `id`.
enum TreeCommandKind: String, CaseIterable {
    case leave
    case signal
    case media
    case raiseHand = "raise_hand"
    case lowerHand = "lower_hand"
    case pass
    case endTurn = "end_turn"
    case reaction
    case privateWord = "private_word"
    case setPhase = "set_phase"
    case advanceRound = "advance_round"
    case startSilence = "start_silence"
    case endSilence = "end_silence"
    case giveFloor = "give_floor"
    case moveInQueue = "move_in_queue"
    case removeFromQueue = "remove_from_queue"
    case clearQueue = "clear_queue"
    case setQueuePolicy = "set_queue_policy"
    case setPacing = "set_pacing"
    case mute
    case unmute
    case muteAllButSpeaker = "mute_all_but_speaker"
    case lock
    case unlock
    case remove
    case promote
    case endSession = "end_session"
    case requestStats = "request_stats"
    case privateWordSeen = "private_word_seen"

    /// The fields this command may carry besides `type` and `id`; any other member makes the message `invalid`.
    var fields: [String] {
        switch self {
        case .leave, .raiseHand, .lowerHand, .pass, .endTurn, .advanceRound, .endSilence, .clearQueue,
            .muteAllButSpeaker, .lock, .unlock, .endSession, .requestStats:
            Self.noFields
        case .signal: Self.signalFields
        case .media: Self.mediaFields
        case .reaction: Self.reactionFields
        case .privateWord: Self.privateWordFields
        case .setPhase: Self.setPhaseFields
        case .startSilence: Self.startSilenceFields
        case .giveFloor, .removeFromQueue, .mute, .unmute, .remove, .promote, .privateWordSeen: Self.participantFields
        case .moveInQueue: Self.moveInQueueFields
        case .setQueuePolicy: Self.setQueuePolicyFields
        case .setPacing: Self.setPacingFields
        }
    }

    private static let noFields: [String] = []
    private static let signalFields = ["to", "to_all", "payload"]
    private static let mediaFields = ["mic", "camera"]
    private static let reactionFields = ["kind"]
    private static let privateWordFields = ["text"]
    private static let setPhaseFields = ["phase"]
    private static let startSilenceFields = ["silence_ms"]
    private static let participantFields = ["participant"]
    private static let moveInQueueFields = ["participant", "position"]
    private static let setQueuePolicyFields = ["queue_policy", "policy"]
    private static let setPacingFields = ["turn_length_ms", "nudge_before_ms", "auto_advance"]
}
