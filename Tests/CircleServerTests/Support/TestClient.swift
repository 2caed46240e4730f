import CircleClient
import CircleHTTP
import CircleLoop
import CircleTLS
import CircleWebSocket

/// A test's view of one ``WebSocketClient`` (or plain HTTP exchange) on the test's loop: it records what the client
/// reports so the test can wait for it and assert on it.
final class TestClient: WebSocketClientDelegate {
    enum Message: Equatable {
        case text([UInt8])
        case binary([UInt8])

        var string: String? {
            if case .text(let t) = self { return String(decoding: t, as: UTF8.self) }
            return nil
        }
    }

    private(set) var client: WebSocketClient!
    /// Status of the HTTP response (101 for an upgrade); -1 for an unparsable response.
    var status: Int?
    /// Everything received before the upgrade, or the whole response for plain HTTP.
    var rawResponse: [UInt8] = []
    var messages: [Message] = []
    var pongs = 0
    var pings = 0
    /// The close frame the server sent us, if any.
    var serverClose: (code: UInt16?, reason: String)?
    var protocolFailure: UInt16?
    var tcpClosed = false
    var connectError: LoopError?

    init() { client = WebSocketClient(delegate: self) }

    var tcp: TCPConnection? { client.tcp }
    /// When false, the client plays a peer that never answers pings or close frames.
    var answers: Bool {
        get { client.answers }
        set { client.answers = newValue }
    }
    var upgraded: Bool { status == 101 }
    var rawResponseText: String { String(decoding: rawResponse, as: UTF8.self) }
    var texts: [String] { messages.compactMap(\.string) }

    /// Opens a WebSocket to `path` and waits for the server's response head.
    static func webSocket(_ env: ServerDriver, path: String = "/echo", headers: [HTTPHeader] = []) -> TestClient {
        let client = TestClient()
        client.connectWebSocket(env, path: path, headers: headers)
        env.run { client.status != nil || client.tcpClosed }
        return client
    }

    /// Opens a TCP connection, sends `request` raw, and collects the raw response.
    static func raw(_ env: ServerDriver, _ request: [UInt8]) -> TestClient {
        let client = TestClient()
        client.connect(env, sending: request)
        env.run { client.tcp != nil || client.tcpClosed }
        return client
    }

    /// Opens a WebSocket to `path` on `port` (default: the driver's), through `filter` (TLS) if given.
    func connectWebSocket(_ env: ServerDriver, port: Int? = nil, path: String, headers: [HTTPHeader] = [],
                          filter: TransportFilter? = nil) {
        client.connect(loop: env.loop, host: "127.0.0.1", port: port ?? env.port, path: path, extraHeaders: headers,
                       filter: filter)
    }

    /// Connects to `port` (default: the driver's), with `filter` (TLS) between the socket and this client, and
    /// sends `bytes` as they are.
    func connect(_ env: ServerDriver, port: Int? = nil, filter: TransportFilter? = nil, sending bytes: [UInt8]) {
        client.connect(loop: env.loop, host: "127.0.0.1", port: port ?? env.port, sending: bytes, filter: filter)
    }

    func sendText(_ s: String) { client.send(.text, Array(s.utf8)) }
    func send(_ opcode: WebSocketOpcode, _ payload: [UInt8]) { client.send(opcode, payload) }

    /// Sends one frame built by hand (masked with a fixed key unless `masked` is false).
    func sendFrame(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true, masked: Bool = true) {
        var frame: [UInt8] = []
        WebSocketFrame.encode(opcode: opcode, payload: payload, fin: fin,
                              maskKey: masked ? (0x37, 0xfa, 0x21, 0x3d) : nil, into: &frame)
        client.sendRaw(frame)
    }

    func sendRaw(_ bytes: [UInt8]) { client.sendRaw(bytes) }

    func close(code: UInt16 = 1000) { client.startClose(code: code) }

    func webSocketClient(_ client: WebSocketClient, didReport event: WebSocketClient.Event) {
        switch event {
        case .connectFailed(let error):
            connectError = error
            tcpClosed = true
        case .status(let status): self.status = status
        case .response(let bytes): rawResponse.append(contentsOf: bytes)
        case .text(let t): messages.append(.text(t))
        case .binary(let b): messages.append(.binary(b))
        case .ping: pings += 1
        case .pong: pongs += 1
        case .peerClosed(let code, let reason): serverClose = (code, reason)
        case .protocolFailure(let code): protocolFailure = code
        case .closed: tcpClosed = true
        case .connected, .opened, .refused, .closeCompleted: break  // the server closes TCP first (RFC 6455 §7.1.1)
        }
    }
}

extension TLSClientFilter {
    /// A filter trusting the CA certificates in `ca` (nil: no verification), for the server name 127.0.0.1.
    convenience init(trusting ca: String?) throws(TLSError) {
        try self.init(context: .client(trustedCAPath: ca, serverName: "127.0.0.1"))
    }
}
