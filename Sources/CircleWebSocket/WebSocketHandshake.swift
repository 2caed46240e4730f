import CircleCrypto
import CircleHTTP

/// The opening handshake (RFC 6455 §4): validating a client's upgrade request on the server, building the
/// request and checking the response on the client.
public enum WebSocketHandshake {
    /// The GUID appended to the key before hashing (§1.3).
    public static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
    public static func acceptValue(forKey key: String) -> String {
        Base64.encode(acceptDigest(forKey: key))
    }

    /// SHA-1 of key + GUID, hashed from one stack buffer.
    static func acceptDigest(forKey key: String) -> [UInt8] {
        var key = key
        return key.withUTF8 { k in
            withUnsafeTemporaryAllocation(byteCount: k.count + guidBytes.count, alignment: 1) { buffer in
                UnsafeMutableRawBufferPointer(rebasing: buffer[..<k.count]).copyMemory(from: UnsafeRawBufferPointer(k))
                guidBytes.withUnsafeBytes {
                    UnsafeMutableRawBufferPointer(rebasing: buffer[k.count...]).copyMemory(from: $0)
                }
                return Crypto.sha1(UnsafeRawBufferPointer(buffer))
            }
        }
    }

    private static let guidBytes: [UInt8] = Array(guid.utf8)

    /// The `101` response without a subprotocol, up to the accept value: what `HTTPResponse.make` writes for
    /// these headers (their values hold no control characters, and a 101 carries no `Content-Length`).
    private static let switchingPrefix: [UInt8] = Array(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ".utf8)

    /// The exact `101` response for `key` when no subprotocol was chosen, built straight into bytes.
    static func switchingResponse(forKey key: String) -> [UInt8] {
        let accept = acceptValue(forKey: key)
        var out: [UInt8] = []
        out.reserveCapacity(switchingPrefix.count + accept.utf8.count + 4)
        out.append(contentsOf: switchingPrefix)
        out.append(contentsOf: accept.utf8)
        out.append(contentsOf: [0x0D, 0x0A, 0x0D, 0x0A])
        return out
    }

    /// Whether the request asks for a WebSocket (`Upgrade: websocket` among its tokens). Use it to route;
    /// `accept(_:options:)` does the full validation.
    public static func isUpgradeRequest(_ head: HTTPRequestHead) -> Bool {
        head.headerHasToken("Upgrade", "websocket")
    }

    /// Server-side policy for accepting upgrades.
    public struct Options: Sendable {
        /// Exact `Origin` values allowed (`https://example.org`, as browsers serialize it); nil allows any.
        public var allowedOrigins: Set<String>?
        /// With an allow-list: whether a request without `Origin` is refused. Browsers always send `Origin`,
        /// so a missing one means a non-browser client, which could forge any value anyway; default false.
        public var requireOrigin: Bool
        /// Picks one of the subprotocols the client offered (in its order), or nil for none. A value that was
        /// not offered is ignored.
        public var selectSubprotocol: (@Sendable ([String]) -> String?)?

        /// Options; the defaults accept any origin and negotiate no subprotocol.
        public init(
            allowedOrigins: Set<String>? = nil, requireOrigin: Bool = false,
            selectSubprotocol: (@Sendable ([String]) -> String?)? = nil
        ) {
            self.allowedOrigins = allowedOrigins
            self.requireOrigin = requireOrigin
            self.selectSubprotocol = selectSubprotocol
        }
    }

    /// A successful upgrade: the exact `101` response to send, then switch the connection to WebSocket.
    public struct Accepted: Sendable, Equatable {
        /// The complete response head.
        public var response: [UInt8]
        /// The negotiated subprotocol, if any.
        public var subprotocol: String?
    }

    /// A refused upgrade: the error and the extra headers its response must carry.
    public struct HandshakeError: Error, Sendable, Equatable {
        /// The status and reason.
        public var error: HTTPError
        /// Headers for the error response (`Allow`, `Sec-WebSocket-Version`, `Upgrade`).
        public var headers: [HTTPHeader]

        /// An error with extra response headers.
        public init(_ error: HTTPError, headers: [HTTPHeader] = []) {
            self.error = error
            self.headers = headers
        }

        /// The complete error response (`Connection: close`) to send before closing.
        public var response: [UInt8] { HTTPResponse.error(error, extraHeaders: headers) }
    }

    /// Validates a client's upgrade request, in this order:
    /// method `GET` (else 405 with `Allow: GET`); HTTP/1.1 or later (400); `Upgrade: websocket` (else 426 with
    /// `Upgrade: websocket`); a `Connection` token `upgrade` (400); `Sec-WebSocket-Version: 13` (else 426 with
    /// `Sec-WebSocket-Version: 13`); exactly one `Sec-WebSocket-Key` that is base64 of 16 bytes (400); the
    /// origin allow-list (403). `Host` was already required by the parser. Extensions are never negotiated.
    /// Returns the exact `101` response bytes.
    public static func accept(
        _ head: HTTPRequestHead, options: Options = .init()
    ) -> Result<Accepted, HandshakeError> {
        guard head.method == "GET" else {
            return .failure(HandshakeError(HTTPError(status: 405), headers: [HTTPHeader(name: "Allow", value: "GET")]))
        }
        guard head.versionMinor >= 1 else {
            return .failure(HandshakeError(HTTPError(status: 400, reason: "WebSocket requires HTTP/1.1")))
        }
        guard isUpgradeRequest(head) else {
            return .failure(HandshakeError(
                HTTPError(status: 426, reason: "This endpoint requires a WebSocket upgrade"),
                headers: [
                    HTTPHeader(name: "Upgrade", value: "websocket"), HTTPHeader(name: "Connection", value: "Upgrade"),
                ]))
        }
        guard head.headerHasToken("Connection", "upgrade") else {
            let error = HTTPError(status: 400, reason: "Connection header lacks the upgrade token")
            return .failure(HandshakeError(error))
        }
        var versions = 0, versionIs13 = false
        var keys = 0, key = ""
        for h in head.headers {
            // One pass for both fields; the checks below keep the order of the documented rules.
            if HTTPHeader.nameEquals(h.name, "Sec-WebSocket-Version") {
                versions += 1
                versionIs13 = h.value == "13"
            } else if HTTPHeader.nameEquals(h.name, "Sec-WebSocket-Key") {
                keys += 1
                key = h.value
            }
        }
        guard versions == 1, versionIs13 else {
            return .failure(HandshakeError(
                HTTPError(status: 426, reason: "Unsupported WebSocket version"),
                headers: [HTTPHeader(name: "Sec-WebSocket-Version", value: "13")]))
        }
        guard keys == 1, key.utf8.count == 24, isSixteenByteBase64(key) else {
            return .failure(HandshakeError(HTTPError(status: 400, reason: "Invalid Sec-WebSocket-Key")))
        }
        if let allowed = options.allowedOrigins {
            let origins = head.headerValues("Origin")
            let permitted = origins.isEmpty
                ? !options.requireOrigin : origins.count == 1 && allowed.contains(origins[0])
            guard permitted else {
                return .failure(HandshakeError(HTTPError(status: 403, reason: "Origin not allowed")))
            }
        }
        var subprotocol: String?
        if let select = options.selectSubprotocol {
            let offered = head.headerListElements("Sec-WebSocket-Protocol")
            if !offered.isEmpty, let chosen = select(offered), offered.contains(chosen) { subprotocol = chosen }
        }
        guard let subprotocol else {
            return .success(Accepted(response: switchingResponse(forKey: key), subprotocol: nil))
        }
        let headers = [
            HTTPHeader(name: "Upgrade", value: "websocket"),
            HTTPHeader(name: "Connection", value: "Upgrade"),
            HTTPHeader(name: "Sec-WebSocket-Accept", value: acceptValue(forKey: key)),
            HTTPHeader(name: "Sec-WebSocket-Protocol", value: subprotocol),
        ]
        return .success(Accepted(response: HTTPResponse.make(status: 101, headers: headers), subprotocol: subprotocol))
    }

    /// Whether `key` is base64 of exactly 16 bytes (`Base64.decode` would return 16 bytes), decoding nothing.
    static func isSixteenByteBase64(_ key: String) -> Bool {
        var key = key
        return key.withUTF8 { Base64.decodedCount(UnsafeRawBufferPointer($0)) == 16 }
    }
}
