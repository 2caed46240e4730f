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
    /// Answer later: the server holds the connection (reading no further request) and calls `start` with the
    /// ``HTTPResponder`` to answer through, once. Unanswered after ``Server/deferredTimeoutMilliseconds`` it gets 503.
    case deferred(start: (HTTPResponder) -> Void)
    /// The path is served, but not with this method: 405 with `Allow` listing `allowed`.
    case methodNotAllowed(allowed: [String])
}

/// Answers one deferred request (``RouteResult/deferred(start:)``), on the loop thread. The first `respond` is sent
/// (with `Connection: close`, CORS headers where the path takes them, and no body for HEAD); later calls, and calls
/// after the client went away or the server answered 503 for a timeout or a shutdown, do nothing.
public final class HTTPResponder {
    /// The request being answered.
    public let head: HTTPRequestHead
    weak var connection: ServerConnection?
    /// The loop's milliseconds when the request was deferred: the timeout counts from here.
    let startedAt: UInt64
    public private(set) var isAnswered = false

    init(head: HTTPRequestHead, connection: ServerConnection, startedAt: UInt64) {
        self.head = head
        self.connection = connection
        self.startedAt = startedAt
    }

    /// Whether a response would still reach the client (not answered, the connection still open and waiting).
    public var isWaiting: Bool {
        guard !isAnswered, let connection, case .deferred(let waiting) = connection.phase else { return false }
        return waiting === self && !connection.tcp.isClosed
    }

    /// Sends the response, once.
    public func respond(status: Int, headers: [HTTPHeader] = [], body: [UInt8] = []) {
        guard isWaiting, let connection else {
            isAnswered = true
            return
        }
        isAnswered = true
        connection.server.respond(status: status, headers: headers, body: body, to: head, on: connection)
    }
}

/// Several applications on one server: a request goes to the first that routes it. Holds them strongly.
public final class HTTPApplications: HTTPApplication {
    public let members: [HTTPApplication]

    public init(_ members: [HTTPApplication]) { self.members = members }

    public func route(_ head: HTTPRequestHead, connection: ServerConnection) -> RouteResult? {
        for member in members {
            if let result = member.route(head, connection: connection) { return result }
        }
        return nil
    }

    public func serverWillShutDown() {
        for member in members { member.serverWillShutDown() }
    }

    public func servesCrossOrigin(_ path: String) -> Bool { members.contains { $0.servesCrossOrigin(path) } }
}

/// Routes the application's paths. Returns nil for paths it doesn't serve (the server then answers 404).
public protocol HTTPApplication: AnyObject {
    func route(_ head: HTTPRequestHead, connection: ServerConnection) -> RouteResult?
    /// Called when the server begins a graceful shutdown, before clients are sent their close frames.
    func serverWillShutDown()
    /// Whether pages on other origins may read this path's answers (CORS, ``CrossOrigin``). Default: false.
    func servesCrossOrigin(_ path: String) -> Bool
}

extension HTTPApplication {
    public func serverWillShutDown() {}
    public func servesCrossOrigin(_ path: String) -> Bool { false }
}

/// `/echo`: sends every message back as it came. For conformance (Autobahn) and benchmark runs only.
final class EchoEndpoint: WebSocketEndpoint {
    func webSocketDidOpen(_ connection: ServerConnection) {}
    func webSocket(_ connection: ServerConnection, didReceiveText text: [UInt8]) { connection.send(text: text) }
    func webSocket(_ connection: ServerConnection, didReceiveBinary data: [UInt8]) { connection.send(binary: data) }
    func webSocketDidClose(_ connection: ServerConnection, reason: DisconnectReason) {}
}
