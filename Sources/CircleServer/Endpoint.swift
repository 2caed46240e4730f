import CircleHTTP
import CircleWebSocket

/// Why a WebSocket connection ended, as its endpoint learns it.
public enum DisconnectReason: Sendable, Equatable {
    /// The close handshake completed (either side started it).
    case closed(code: UInt16?)
    /// The TCP connection dropped, or the peer broke the protocol, without a completed close handshake.
    case dropped
    /// Keepalive found the peer dead (no answer to a ping in time).
    case timedOut
}

/// An application served on a WebSocket route. Every call happens on the connection's loop thread.
public protocol WebSocketEndpoint: AnyObject {
    /// The upgrade response has been queued; the connection can send.
    func webSocketDidOpen(_ connection: ServerConnection)
    /// One complete text message (UTF-8 already validated).
    func webSocket(_ connection: ServerConnection, didReceiveText text: [UInt8])
    /// One complete binary message.
    func webSocket(_ connection: ServerConnection, didReceiveBinary data: [UInt8])
    /// The connection is gone (called once; nothing more is sent to it).
    func webSocketDidClose(_ connection: ServerConnection, reason: DisconnectReason)
    /// A data frame that does not end its message arrived (rate limits count frames too). Default: nothing.
    func webSocketDidReceiveFragment(_ connection: ServerConnection)
}

extension WebSocketEndpoint {
    public func webSocketDidReceiveFragment(_ connection: ServerConnection) {}
}

/// What the application makes of a request head.
public enum RouteResult {
    /// Answer with this HTTP response and close.
    case response(status: Int, headers: [HTTPHeader], body: [UInt8])
    /// Upgrade to a WebSocket served by `endpoint` (the handshake is validated by the server first).
    /// `subprotocol`: answered when the client offered it (`Sec-WebSocket-Protocol`); nil negotiates none.
    case webSocket(endpoint: WebSocketEndpoint, context: AnyObject?, limits: WebSocketLimits?, maxQueuedBytes: Int?,
                   subprotocol: String? = nil)
}

/// Routes the application's paths. Returns nil for paths it doesn't serve (the server then answers 404).
public protocol HTTPApplication: AnyObject {
    func route(_ head: HTTPRequestHead, connection: ServerConnection) -> RouteResult?
    /// Called when the server begins a graceful shutdown, before clients are sent their close frames.
    func serverWillShutDown()
}

extension HTTPApplication {
    public func serverWillShutDown() {}
}

/// `/echo`: sends every message back as it came. For conformance (Autobahn) and benchmark runs only.
final class EchoEndpoint: WebSocketEndpoint {
    func webSocketDidOpen(_ connection: ServerConnection) {}
    func webSocket(_ connection: ServerConnection, didReceiveText text: [UInt8]) { connection.send(text: text) }
    func webSocket(_ connection: ServerConnection, didReceiveBinary data: [UInt8]) { connection.send(binary: data) }
    func webSocketDidClose(_ connection: ServerConnection, reason: DisconnectReason) {}
}
