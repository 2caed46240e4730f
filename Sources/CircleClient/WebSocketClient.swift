import CircleCrypto
import CircleHTTP
import CircleLoop
import CircleWebSocket

/// Receives what a ``WebSocketClient`` reports, on the loop's thread.
public protocol WebSocketClientDelegate: AnyObject {
    func webSocketClient(_ client: WebSocketClient, didReport event: WebSocketClient.Event)
}

/// A WebSocket client on the loop, in the client role of Circle's codec: it opens a TCP connection (through a
/// transport filter such as TLS, if given), sends the upgrade request, validates the response head (RFC 6455 §4.1)
/// and then reads frames. The load tool and the tests both use it. It can also send a plain HTTP request and report
/// the raw response.
public final class WebSocketClient: TCPConnectionDelegate {
    /// What the client reports.
    public enum Event {
        /// The connection could not be opened.
        case connectFailed(LoopError)
        /// The TCP connection is open and the request is on its way.
        case connected
        /// The response's status: 101 for an upgrade, -1 for a response the client could not read.
        case status(Int)
        /// Upgraded: frames follow.
        case opened
        /// The server refused the upgrade or answered wrongly. Later bytes come as `response`.
        case refused(WebSocketHandshake.ClientError)
        /// Bytes that are not frames: the response head, and all that follows a refusal or a plain request. Valid
        /// only during the call.
        case response(UnsafeRawBufferPointer)
        case text([UInt8])
        case binary([UInt8])
        case ping
        case pong
        /// The server's close frame.
        case peerClosed(code: UInt16?, reason: String)
        /// The server broke the protocol; the client has sent its close frame.
        case protocolFailure(code: UInt16)
        /// The close handshake is complete: the server should now close TCP (RFC 6455 §7.1.1).
        case closeCompleted
        /// The TCP connection closed.
        case closed(LoopError?)
    }

    public enum Stage {
        case idle, connecting, handshaking, open, plain, closed
    }

    /// Weak: a test may drop its client while the connection still closes.
    public weak var delegate: WebSocketClientDelegate?
    public private(set) var stage = Stage.idle
    public private(set) var tcp: TCPConnection?
    /// False plays a peer that never answers pings or close frames.
    public var answers = true
    private var codec = WebSocketCodec(role: .client)
    private var handshake: WebSocketClientHandshake?
    private var plainResponse: HTTPResponseHeadParser?
    private var actions: [WebSocketAction] = []
    private var frame: [UInt8] = []
    /// Random bytes for the next messages' mask keys, taken from the end (see ``send(_:_:maskKey:)``).
    private var maskPool: [UInt8] = []

    public init(delegate: WebSocketClientDelegate) {
        self.delegate = delegate
    }

    public var isOpen: Bool { stage == .open }

    /// Opens a WebSocket to `path` (which may carry a query) on `host:port`. The subprotocols offered in a
    /// `Sec-WebSocket-Protocol` header among `extraHeaders` are the ones the server may choose.
    public func connect(loop: EventLoop, host: String, port: Int, path: String, extraHeaders: [HTTPHeader] = [],
                        filter: TransportFilter? = nil) {
        let key = WebSocketHandshake.makeKey()
        let request = WebSocketHandshake.clientRequest(host: "\(host):\(port)", path: path, key: key,
                                                       extraHeaders: extraHeaders)
        let offered = extraHeaders.filter { $0.name.lowercased() == "sec-websocket-protocol" }
            .flatMap { $0.value.split(separator: ",").map { String($0.trimmingSpaces) } }
        open(loop: loop, host: host, port: port, filter: filter, request: request,
             handshake: WebSocketClientHandshake(key: key, offeredSubprotocols: offered))
    }

    /// Opens a TCP connection and sends `request` as it is (empty: nothing); the answer comes as `response` bytes
    /// and, once its head is read, its `status`.
    public func connect(loop: EventLoop, host: String, port: Int, sending request: [UInt8],
                        filter: TransportFilter? = nil) {
        open(loop: loop, host: host, port: port, filter: filter, request: request, handshake: nil)
    }

    private func open(loop: EventLoop, host: String, port: Int, filter: TransportFilter?, request: [UInt8],
                      handshake: WebSocketClientHandshake?) {
        stage = .connecting
        codec = WebSocketCodec(role: .client)
        TCPConnection.connect(loop: loop, host: host, port: port) { [self] result in
            switch result {
            case .failure(let error):
                stage = .closed
                report(.connectFailed(error))
            case .success(let tcp):
                self.tcp = tcp
                tcp.filter = filter
                tcp.delegate = self
                if let handshake {
                    self.handshake = handshake
                    stage = .handshaking
                } else {
                    plainResponse = HTTPResponseHeadParser()
                    stage = .plain
                }
                tcp.startReading()
                if !request.isEmpty { tcp.write(request) }
                report(.connected)
            }
        }
    }

    // MARK: Sending

    /// Sends one message as a single frame, masked with `maskKey` (nil: a fresh random key; the load tool passes
    /// keys from its own fast generator). Returns whether it was queued.
    @discardableResult
    public func send(_ opcode: WebSocketOpcode, _ payload: [UInt8],
                     maskKey: (UInt8, UInt8, UInt8, UInt8)? = nil) -> Bool {
        guard let tcp else { return false }
        frame.removeAll(keepingCapacity: true)
        WebSocketFrame.encode(opcode: opcode, payload: payload, maskKey: maskKey ?? nextMaskKey(), into: &frame)
        return tcp.write(frame)
    }

    /// An unpredictable key for each frame (RFC 6455 §5.3), from OpenSSL's generator 64 keys at a time: one
    /// `RAND_bytes` call per frame was 8 % of a relaying cluster node's CPU (Docs/SCALING.md).
    private func nextMaskKey() -> (UInt8, UInt8, UInt8, UInt8) {
        if maskPool.count < 4 { maskPool = Crypto.randomBytes(256) }
        let n = maskPool.count
        defer { maskPool.removeLast(4) }
        return (maskPool[n - 4], maskPool[n - 3], maskPool[n - 2], maskPool[n - 1])
    }

    /// Sends bytes as they are (a hand-built frame, say).
    @discardableResult
    public func sendRaw(_ bytes: [UInt8]) -> Bool { tcp?.write(bytes) ?? false }

    /// Starts the close handshake; returns false when there is none to start (not open, or already closing).
    @discardableResult
    public func startClose(code: UInt16 = WebSocketCloseCode.normal, reason: String = "") -> Bool {
        guard isOpen, let closeFrame = codec.startClose(code: code, reason: reason) else { return false }
        tcp?.write(closeFrame)
        return true
    }

    /// Closes TCP without a close frame (a network loss, or the end of the handshake).
    public func drop() { tcp?.close() }

    private func report(_ event: Event) { delegate?.webSocketClient(self, didReport: event) }

    // MARK: TCPConnectionDelegate

    public func connection(_ connection: TCPConnection, didRead bytes: UnsafeRawBufferPointer) {
        switch stage {
        case .handshaking:
            guard var handshake else { return }
            let outcome = handshake.feed(bytes)
            self.handshake = handshake
            switch outcome {
            case .needMore:
                report(.response(bytes))
            case .failed(let error):
                self.handshake = nil
                stage = .plain
                report(.response(bytes))
                if case .unexpectedStatus(let status) = error {
                    report(.status(status))
                } else {
                    report(.status(-1))
                }
                report(.refused(error))
            case .accepted(_, let consumed):
                self.handshake = nil
                stage = .open
                report(.response(UnsafeRawBufferPointer(rebasing: bytes[..<consumed])))
                report(.status(101))
                report(.opened)
                if consumed < bytes.count, stage == .open {
                    receive(UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
                }
            }
        case .open:
            receive(bytes)
        case .plain:
            report(.response(bytes))
            if var parser = plainResponse {
                switch parser.feed(bytes) {
                case .needMore:
                    plainResponse = parser
                case .failure:
                    plainResponse = nil
                    report(.status(-1))
                case .complete(let head, _):
                    plainResponse = nil
                    report(.status(head.status))
                }
            }
        case .idle, .connecting, .closed:
            break
        }
    }

    private func receive(_ bytes: UnsafeRawBufferPointer) {
        // Collect first: the delegate may send or close, which touches the codec.
        var actions = self.actions
        self.actions = []
        codec.receive(bytes) { actions.append($0) }
        for action in actions {
            switch action {
            case .text(let text): report(.text(text))
            case .binary(let data): report(.binary(data))
            case .write(let w), .sendPong(let w): if answers { tcp?.write(w) }
            case .ping: report(.ping)
            case .pong: report(.pong)
            case .peerClosed(let code, let reason):
                report(.peerClosed(code: code, reason: reason))
            case .failed(let code, _): report(.protocolFailure(code: code))
            case .closeConnection: report(.closeCompleted)
            case .fragment: break
            }
        }
        actions.removeAll(keepingCapacity: true)
        self.actions = actions
    }

    public func connectionDidClose(_ connection: TCPConnection, error: LoopError?) {
        tcp = nil
        stage = .closed
        report(.closed(error))
    }
}

private extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}
