import CircleJSON
import CircleRoom

/// Client text → ``ClientRequest``: size check, strict validation of the whole text (the same rules, limits and
/// errors as the tree parser, without building a tree: the scan only notes where each known member's value lies),
/// the request id, the type, unknown fields, then the command's own fields, read straight from the text. A signal's
/// payload is validated in place and copied once, byte for byte.
enum RequestDecoder {
    static func decode(_ text: UnsafeRawBufferPointer, limits: ProtocolLimits) -> Result<ClientRequest, DecodeFailure> {
        guard text.count <= limits.maxMessageBytes else {
            return failure(text, limits, .tooLarge, "message too large")
        }
        guard startsWithObject(text) else {
            return failure(text, limits, .invalid, "a message must be a JSON object")
        }
        var fields = MessageFields(text: text)
        do {
            try JSON.scanTopObject(text, limits: limits.json) { fields.record($0) }
        } catch {
            // A string over the cap (a signal payload that is one long string, say) is too large, not malformed.
            if error.isStringTooLong { return failure(text, limits, .tooLarge, error.message) }
            return failure(text, limits, .invalid, "malformed JSON: \(error.message)")
        }
        let id: RequestID?
        do {
            id = try requestID(fields, limits: limits)
        } catch {
            return .failure(DecodeFailure(id: nil, code: .invalid, message: error.message))
        }
        do {
            return .success(ClientRequest(id: id, command: try command(fields)))
        } catch {
            return .failure(DecodeFailure(id: id, code: .invalid, message: error.message))
        }
    }

    /// The optional request id: a string of 1 … `maxRequestIDBytes` UTF-8 bytes.
    private static func requestID(_ fields: MessageFields, limits: ProtocolLimits) throws(FieldError) -> RequestID? {
        guard let span = fields.span(.id) else { return nil }
        guard let id = span.stringValue(in: fields.text) else { throw FieldError(message: "`id` must be a string") }
        guard !id.isEmpty && id.utf8.count <= limits.maxRequestIDBytes else {
            throw FieldError(message: "`id` must be 1 to \(limits.maxRequestIDBytes) bytes")
        }
        return id
    }

    /// The command: a known `type`, no member it does not define, and its own fields well typed.
    private static func command(_ fields: MessageFields) throws(FieldError) -> Command {
        guard let type = fields.span(.type) else { throw FieldError(message: "missing field `type`") }
        guard type.isString(in: fields.text) else { throw FieldError(message: "`type` must be a string") }
        guard let kind = CommandKind.named(type, in: fields.text) else { throw FieldError(message: "unknown type") }
        let allowed = kind.fields | Field.type.bit | Field.id.bit
        guard !fields.hasForeignMember && fields.present & ~allowed == 0 else {
            throw FieldError(message: "unknown field")
        }
        var resolved = fields
        let v2 = try ProtocolAlias.resolve(kind, &resolved)
        return try command(v2, resolved)
    }

    /// The command of `kind` from its fields.
    private static func command(_ kind: CommandKind, _ fields: MessageFields) throws(FieldError) -> Command {
        switch kind {
        case .leave: return .leave
        case .signal: return .signal(to: try signalTarget(fields), payload: try signalPayload(fields))
        case .media:
            let mic = try fields.optionalBool(.mic), camera = try fields.optionalBool(.camera)
            guard mic != nil || camera != nil else { throw FieldError(message: "`mic` or `camera` is required") }
            return .media(mic: mic, camera: camera)
        case .raiseHand: return .raiseHand
        case .lowerHand: return .lowerHand
        case .pass: return .pass
        case .endTurn: return .endTurn
        case .reaction: return .reaction(try fields.wireEnum(.kind, as: ReactionKind.self))
        case .privateWord: return .privateWord(text: try fields.optionalString(.text))
        case .setPhase: return .setPhase(try fields.wireEnum(.phase, as: Phase.self))
        case .advanceRound: return .advanceRound
        case .startSilence: return .startSilence(try fields.milliseconds(.silenceMs))
        case .endSilence: return .endSilence
        case .giveFloor: return .giveFloor(to: try fields.optionalString(.participant))
        case .moveInQueue:
            return .moveInQueue(try fields.string(.participant), to: try fields.nonNegativeInteger(.position))
        case .removeFromQueue: return .removeFromQueue(try fields.string(.participant))
        case .clearQueue: return .clearQueue
        case .setQueuePolicy: return .setQueuePolicy(try fields.wireEnum(.queuePolicy, as: QueuePolicy.self))
        case .setPacing:
            return .setPacing(
                Pacing(
                    turnLength: try fields.optionalMilliseconds(.turnLengthMs),
                    nudgeBefore: try fields.milliseconds(.nudgeBeforeMs),
                    autoAdvance: try fields.bool(.autoAdvance)))
        case .mute: return .mute(try fields.string(.participant))
        case .unmute: return .unmute(try fields.string(.participant))
        case .muteAllButSpeaker: return .muteAllButSpeaker
        case .lock: return .lock
        case .unlock: return .unlock
        case .remove: return .remove(try fields.string(.participant))
        case .promote: return .promote(try fields.string(.participant))
        case .endSession: return .endSession
        case .requestStats: return .requestStats
        case .privateWordSeen: return .privateWordSeen(try fields.string(.participant))
        }
    }

    /// Exactly one of `to` (a participant id) or `to_all: true`.
    private static func signalTarget(_ fields: MessageFields) throws(FieldError) -> SignalTarget {
        let to = try fields.optionalString(.to)
        let toAll = try fields.optionalBool(.toAll) ?? false
        switch (to, toAll) {
        case (let id?, false): return .participant(id)
        case (nil, true): return .everyone
        case (.some, true): throw FieldError(message: "`to` and `to_all` exclude each other")
        case (nil, false): throw FieldError(message: "missing field `to` (or `to_all`: true)")
        }
    }

    /// The payload's bytes exactly as the client wrote them (already validated as one JSON value).
    private static func signalPayload(_ fields: MessageFields) throws(FieldError) -> [UInt8] {
        guard let span = fields.span(.payload) else { throw FieldError(message: "missing field `payload`") }
        return Array(UnsafeRawBufferPointer(rebasing: fields.text[span.range]))
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
