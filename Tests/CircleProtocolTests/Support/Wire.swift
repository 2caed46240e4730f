import CircleJSON
import CircleProtocol
import CircleRoom
import Testing

/// Small helpers shared by the tests.
enum Wire {
    /// Decodes a client message given as text.
    static func decode(_ text: String, limits: ProtocolLimits = .init()) -> Result<ClientRequest, DecodeFailure> {
        WireProtocol.decode(Array(text.utf8), limits: limits)
    }

    /// Decodes a message that must succeed.
    static func request(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> ClientRequest? {
        switch decode(text) {
        case .success(let request): return request
        case .failure(let failure):
            Issue.record("decode failed: \(failure.message)", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// Decodes a message that must fail.
    static func failure(_ text: String, limits: ProtocolLimits = .init(), sourceLocation: SourceLocation = #_sourceLocation)
        -> DecodeFailure?
    {
        switch decode(text, limits: limits) {
        case .success(let request):
            Issue.record("decoded unexpectedly: \(request.command.wireName)", sourceLocation: sourceLocation)
            return nil
        case .failure(let failure): return failure
        }
    }

    /// Encodes a message and parses the text back (it must be valid JSON and an object).
    static func object(_ message: Outbound, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONObject {
        let text = WireProtocol.encode(message)
        let parsed = try JSON.parse(text)
        return try #require(parsed.objectValue, sourceLocation: sourceLocation)
    }

    static func text(_ message: Outbound) -> String {
        String(decoding: WireProtocol.encode(message), as: UTF8.self)
    }
}
