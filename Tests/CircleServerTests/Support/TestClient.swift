import CircleHTTP
import CircleLoop
import CircleWebSocket

/// A WebSocket (or plain HTTP) client on the test's loop, built on the same codec in the client role.
final class TestClient: TCPConnectionDelegate {
    enum Message: Equatable {
        case text([UInt8])
        case binary([UInt8])

        var string: String? {
            if case .text(let t) = self { return String(decoding: t, as: UTF8.self) }
            return nil
        }
    }

    var tcp: TCPConnection?
    var session = WebSocketSession(role: .client)
    var responseParser = HTTPResponseHeadParser()
    /// Whether the bytes received are a WebSocket after a 101 (false: a plain HTTP exchange, kept raw).
    private let webSocket: Bool
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
    /// When false, the client plays a peer that never answers pings or close frames.
    var answers = true

    init(webSocket: Bool) { self.webSocket = webSocket }

    var upgraded: Bool { status == 101 }
    var rawResponseText: String { String(decoding: rawResponse, as: UTF8.self) }
    var texts: [String] { messages.compactMap(\.string) }

    /// Opens a WebSocket to `path` and waits for the server's response head.
    static func webSocket(_ env: LoopDriver, path: String = "/echo", headers: [HTTPHeader] = []) -> TestClient {
        let request = WebSocketHandshake.clientRequest(
            host: "127.0.0.1:\(env.port)", path: path, key: WebSocketHandshake.makeKey(), extraHeaders: headers)
        let client = TestClient(webSocket: true)
        client.connect(env, sending: request)
        env.run { client.status != nil || client.tcpClosed }
        return client
    }

    /// Opens a TCP connection, sends `request` raw, and collects the raw response.
    static func raw(_ env: LoopDriver, _ request: [UInt8]) -> TestClient {
        let client = TestClient(webSocket: false)
        client.connect(env, sending: request)
        env.run { client.tcp != nil || client.tcpClosed }
        return client
    }

    /// Connects to `port` (default: the driver's), with `filter` (TLS) between the socket and this client.
    func connect(_ env: LoopDriver, port: Int? = nil, filter: TransportFilter? = nil, sending bytes: [UInt8]) {
        TCPConnection.connect(loop: env.loop, host: "127.0.0.1", port: port ?? env.port) { result in
            switch result {
            case .success(let tcp):
                self.tcp = tcp
                tcp.filter = filter
                tcp.delegate = self
                tcp.startReading()
                if !bytes.isEmpty { tcp.write(bytes) }
            case .failure(let error):
                self.connectError = error
                self.tcpClosed = true
            }
        }
    }

    func sendText(_ s: String) { tcp?.write(session.encodeMessage(.text, Array(s.utf8))) }
    func send(_ opcode: WebSocketOpcode, _ payload: [UInt8]) { tcp?.write(session.encodeMessage(opcode, payload)) }

    /// Sends one frame built by hand (masked with a fixed key unless `masked` is false).
    func sendFrame(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true, masked: Bool = true) {
        var frame: [UInt8] = []
        WebSocketFrame.encode(opcode: opcode, payload: payload, fin: fin,
                              maskKey: masked ? (0x37, 0xfa, 0x21, 0x3d) : nil, into: &frame)
        tcp?.write(frame)
    }

    func sendRaw(_ bytes: [UInt8]) { tcp?.write(bytes) }

    func close(code: UInt16 = 1000) {
        if let frame = session.startClose(code: code, reason: "") { tcp?.write(frame) }
    }

    func connection(_ connection: TCPConnection, didRead bytes: UnsafeRawBufferPointer) {
        guard webSocket, status == nil || status == 101 else {
            rawResponse.append(contentsOf: bytes)
            if status == nil, case .complete(let head, _) = responseParser.feed(bytes) { status = head.status }
            return
        }
        if status == 101 { return feedWebSocket(bytes) }
        switch responseParser.feed(bytes) {
        case .needMore:
            rawResponse.append(contentsOf: bytes)
        case .failure:
            status = -1
        case .complete(let head, let consumed):
            rawResponse.append(contentsOf: bytes[0..<consumed])
            status = head.status
            if consumed < bytes.count {
                if head.status == 101 {
                    feedWebSocket(UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
                } else {
                    rawResponse.append(contentsOf: bytes[consumed...])
                }
            }
        }
    }

    private func feedWebSocket(_ bytes: UnsafeRawBufferPointer) {
        var writes: [[UInt8]] = []
        session.receive(bytes) { action in
            switch action {
            case .text(let t): messages.append(.text(t))
            case .binary(let b): messages.append(.binary(b))
            case .write(let w), .sendPong(let w): writes.append(w)
            case .fragment: break
            case .ping: pings += 1
            case .pong: pongs += 1
            case .peerClosed(let code, let reason): serverClose = (code, reason)
            case .failed(let code, _): protocolFailure = code
            case .closeConnection: break  // the server closes TCP first (RFC 6455 §7.1.1); we wait for its FIN
            }
        }
        if answers { for w in writes { tcp?.write(w) } }
    }

    func connectionDidClose(_ connection: TCPConnection, error: LoopError?) {
        tcpClosed = true
        tcp = nil
    }
}
