import CircleJSON
import CircleRoom

/// Client text → ``ClientRequest``: size check, strict parse (capturing the signal payload's bytes), the request
/// id, the type, unknown fields, then the command's own fields.
enum RequestDecoder {
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
    private static func requestID(_ object: JSONObject, limits: ProtocolLimits) throws(FieldError) -> RequestID? {
        switch object["id"] {
        case nil:
            return nil
        case .string(let id) where !id.isEmpty && id.utf8.count <= limits.maxRequestIDBytes:
            return id
        case .string:
            throw FieldError(message: "`id` must be 1 to \(limits.maxRequestIDBytes) bytes")
        default:
            throw FieldError(message: "`id` must be a string")
        }
    }

    /// The command: a known `type`, no member it does not define, and its own fields well typed.
    private static func command(_ capture: JSONObjectCapture, in text: UnsafeRawBufferPointer) throws(FieldError) -> Command {
        let fields = MessageFields(object: capture.object)
        guard let kind = CommandKind(rawValue: try fields.string("type")) else {
            throw FieldError(message: "unknown type")
        }
        let allowed = kind.fields
        for (key, _) in capture.object where key != "type" && key != "id" && !allowed.contains(key) {
            throw FieldError(message: "unknown field")
        }
        return try command(kind, fields, payload: capture.rawRanges[0], in: text)
    }

    /// The command of `kind` from its fields. `payload` is the byte range of the `payload` member in `text`.
    private static func command(
        _ kind: CommandKind, _ fields: MessageFields, payload: Range<Int>?, in text: UnsafeRawBufferPointer
    ) throws(FieldError) -> Command {
        switch kind {
        case .leave: return .leave
        case .signal: return .signal(to: try signalTarget(fields), payload: try signalPayload(payload, in: text))
        case .media:
            let mic = try fields.optionalBool("mic"), camera = try fields.optionalBool("camera")
            guard mic != nil || camera != nil else { throw FieldError(message: "`mic` or `camera` is required") }
            return .media(mic: mic, camera: camera)
        case .raiseHand: return .raiseHand
        case .lowerHand: return .lowerHand
        case .pass: return .pass
        case .endTurn: return .endTurn
        case .reaction: return .reaction(try fields.wireEnum("kind", as: ReactionKind.self))
        case .privateWord: return .privateWord(text: try fields.optionalString("text"))
        case .setPhase: return .setPhase(try fields.wireEnum("phase", as: Phase.self))
        case .advanceRound: return .advanceRound
        case .startSilence: return .startSilence(try fields.milliseconds("silence_ms"))
        case .endSilence: return .endSilence
        case .giveFloor: return .giveFloor(to: try fields.optionalString("participant"))
        case .moveInQueue: return .moveInQueue(try fields.string("participant"), to: try fields.nonNegativeInteger("position"))
        case .removeFromQueue: return .removeFromQueue(try fields.string("participant"))
        case .clearQueue: return .clearQueue
        case .setQueuePolicy: return .setQueuePolicy(try fields.wireEnum("policy", as: QueuePolicy.self))
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
        }
    }

    /// Exactly one of `to` (a participant id) or `to_all: true`.
    private static func signalTarget(_ fields: MessageFields) throws(FieldError) -> SignalTarget {
        let to = try fields.optionalString("to")
        let toAll = try fields.optionalBool("to_all") ?? false
        switch (to, toAll) {
        case (let id?, false): return .participant(id)
        case (nil, true): return .everyone
        case (.some, true): throw FieldError(message: "`to` and `to_all` exclude each other")
        case (nil, false): throw FieldError(message: "missing field `to` (or `to_all`: true)")
        }
    }

    /// The payload's bytes exactly as the client wrote them (already validated as one JSON value).
    private static func signalPayload(_ range: Range<Int>?, in text: UnsafeRawBufferPointer) throws(FieldError) -> [UInt8] {
        guard let range else { throw FieldError(message: "missing field `payload`") }
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

/// JSON whitespace: space, tab, line feed, carriage return.
@inline(__always)
func isWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
}
