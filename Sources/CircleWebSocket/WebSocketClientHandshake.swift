import CircleCrypto
import CircleHTTP

extension WebSocketHandshake {
    /// A fresh `Sec-WebSocket-Key`: base64 of 16 random bytes.
    public static func makeKey() -> String {
        Base64.encode(Crypto.randomBytes(16))
    }

    /// The client's upgrade request head for `ws://host/path` (the path may carry a query).
    public static func clientRequest(
        host: String, path: String, key: String, extraHeaders: [HTTPHeader] = []
    ) -> [UInt8] {
        var text = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        text += "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
        for h in extraHeaders { text += "\(h.name): \(h.value)\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// Why a server's handshake response was refused by the client.
    public enum ClientError: Error, Sendable, Equatable {
        /// The response head itself was malformed or too large.
        case malformedResponse(HTTPError)
        /// The server answered with a status other than 101.
        case unexpectedStatus(Int)
        /// `Upgrade: websocket` or the `Connection: upgrade` token is missing.
        case notUpgraded
        /// `Sec-WebSocket-Accept` is missing or does not match our key.
        case badAccept
        /// The server chose a subprotocol we did not offer, or negotiated an extension.
        case unexpectedNegotiation
    }

    /// Validates a server's response head to our request made with `key` (RFC 6455 §4.1): status 101,
    /// `Upgrade: websocket`, `Connection: upgrade`, the matching `Sec-WebSocket-Accept`, no extension, and a
    /// subprotocol only if one of `offeredSubprotocols`. Returns the chosen subprotocol.
    public static func validateResponse(
        _ head: HTTPResponseHead, key: String, offeredSubprotocols: [String] = []
    ) -> Result<String?, ClientError> {
        guard head.status == 101 else { return .failure(.unexpectedStatus(head.status)) }
        guard head.headerHasToken("Upgrade", "websocket"), head.headerHasToken("Connection", "upgrade") else {
            return .failure(.notUpgraded)
        }
        guard head.headerValues("Sec-WebSocket-Accept") == [acceptValue(forKey: key)] else {
            return .failure(.badAccept)
        }
        guard head.headerListElements("Sec-WebSocket-Extensions").isEmpty else {
            return .failure(.unexpectedNegotiation)
        }
        let chosen = head.headerValues("Sec-WebSocket-Protocol")
        guard chosen.count <= 1 else { return .failure(.unexpectedNegotiation) }
        if let protocolName = chosen.first, !offeredSubprotocols.contains(protocolName) {
            return .failure(.unexpectedNegotiation)
        }
        return .success(chosen.first)
    }
}

/// The client side of the opening handshake, incremental: feed the server's bytes until the response head is
/// complete and validated. Bytes after the head (`consumed` onwards) are WebSocket frames for the codec.
public struct WebSocketClientHandshake: Sendable {
    /// The outcome of feeding bytes.
    public enum Outcome: Sendable, Equatable {
        /// Feed more bytes.
        case needMore
        /// Upgraded. `consumed` bytes of the last input were the head; the rest are frames.
        case accepted(subprotocol: String?, consumed: Int)
        /// The server refused or answered wrongly; close the connection.
        case failed(WebSocketHandshake.ClientError)
    }

    /// The key sent in the request; validate against it.
    public let key: String
    /// The subprotocols offered in the request.
    public let offeredSubprotocols: [String]
    private var parser: HTTPResponseHeadParser

    /// A handshake for a request sent with `key` (and `Sec-WebSocket-Protocol` listing `offeredSubprotocols`).
    public init(key: String, offeredSubprotocols: [String] = [], limits: HTTPLimits = .init()) {
        self.key = key
        self.offeredSubprotocols = offeredSubprotocols
        parser = HTTPResponseHeadParser(limits: limits)
    }

    /// Feeds the next bytes from the server, in any split.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        switch parser.feed(bytes) {
        case .needMore:
            return .needMore
        case .failure(let error):
            return .failed(.malformedResponse(error))
        case .complete(let head, let consumed):
            switch WebSocketHandshake.validateResponse(head, key: key, offeredSubprotocols: offeredSubprotocols) {
            case .success(let subprotocol): return .accepted(subprotocol: subprotocol, consumed: consumed)
            case .failure(let error): return .failed(error)
            }
        }
    }

    /// Feeds bytes from an array.
    public mutating func feed(_ bytes: [UInt8]) -> Outcome {
        bytes.withUnsafeBytes { feed($0) }
    }
}
