import CircleJSON
import CircleRoom

/// The JSON text protocol between clients and the room engine (Docs/PROTOCOL.md, Docs/schema/).
///
/// Client → server: one JSON object per WebSocket text message, `{"type": "<command>", "id": "<request id>"?, …}`.
/// Server → client: one JSON object per message; room events are flat, `{"type": "<event>", "seq": N, …}`, and
/// every other message is direct and carries no `seq`.
///
/// Decoding is strict: unknown types and unknown fields are refused, optional fields are omitted (never `null`),
/// durations are whole milliseconds in `*_ms` integer fields. Encoding writes compact JSON straight into a
/// ``JSONWriter``, once per broadcast; a signal's payload is copied byte for byte, never re-serialized.
public enum WireProtocol {
    /// The protocol version this server speaks, sent as the welcome's `protocol`. Version 2 settled one vocabulary
    /// (PROTOCOL.md "Vocabulary"); the version 1 names clients may still send are aliases (``ProtocolAliases``).
    public static let version = 2

    /// The longest duration a `*_ms` field may carry: the whole milliseconds the engine's clock (nanoseconds in a
    /// `UInt64`) can hold, about 584 years. A longer one is refused as `invalid`, since it could not be sent back as
    /// it came (the engine checks each command's own, much narrower range afterwards).
    public static let maxDurationMilliseconds = Int(UInt64.max / 1_000_000)

    /// Decodes one client text message (UTF-8, already validated by the WebSocket layer).
    ///
    /// Malformed JSON, a non-object, an unknown `type`, a missing, ill-typed or unknown field all fail with code
    /// `invalid` — and the request's `id` when it could be read — and a short fixed message that never echoes input.
    public static func decode(_ text: [UInt8], limits: ProtocolLimits = .init())
        -> Result<ClientRequest, DecodeFailure>
    {
        text.withUnsafeBytes { decode($0, limits: limits) }
    }

    /// Decodes one client text message; see ``decode(_:limits:)-([UInt8],_)``.
    public static func decode(
        _ text: UnsafeRawBufferPointer, limits: ProtocolLimits = .init()
    ) -> Result<ClientRequest, DecodeFailure> {
        RequestDecoder.decode(text, limits: limits)
    }

    /// The request `id` of a message that is not decoded (refused by a rate limit, say), read without parsing the
    /// rest: a string `id` of acceptable length that is the only one among the top-level members, else nil.
    public static func requestID(in text: [UInt8], limits: ProtocolLimits = .init()) -> RequestID? {
        text.withUnsafeBytes { RequestIDScanner.scan($0, limits: limits) }
    }

    /// Encodes one outbound message as compact JSON text (UTF-8). Call it once per broadcast and write the same
    /// bytes to every recipient.
    public static func encode(_ message: Outbound) -> [UInt8] {
        var writer = JSONWriter(capacity: OutboundEncoder.estimatedSize(of: message))
        OutboundEncoder.write(message, into: &writer)
        return writer.bytes
    }

    /// Appends one outbound message as compact JSON text to `writer`.
    public static func encode(_ message: Outbound, into writer: inout JSONWriter) {
        OutboundEncoder.write(message, into: &writer)
    }

    /// Encodes a client request as the JSON text a client sends (for test clients and load tools; the inverse of
    /// ``decode(_:limits:)-([UInt8],_)``). A signal payload must be one complete JSON value.
    public static func encode(_ request: ClientRequest) -> [UInt8] {
        var writer = JSONWriter(capacity: 64 + request.command.payloadSize)
        RequestEncoder.write(request, into: &writer)
        return writer.bytes
    }

    /// Appends a client request as JSON text to `writer`.
    public static func encode(_ request: ClientRequest, into writer: inout JSONWriter) {
        RequestEncoder.write(request, into: &writer)
    }
}

extension Command {
    /// The size of a signal's payload (zero for other commands).
    var payloadSize: Int {
        if case .signal(_, let payload) = self { return payload.count }
        return 0
    }
}
