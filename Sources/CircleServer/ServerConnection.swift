import CircleHTTP
import CircleLoop
import CircleWebSocket

/// One client connection on the server: first an HTTP request head, then (usually) a WebSocket.
public final class ServerConnection: TCPConnectionDelegate {
    enum Phase {
        // Boxed: the parser is needed only until the head is complete, so an open WebSocket doesn't carry its size;
        // with it the loop time (ms) of the accept, which only the head's deadline needs.
        indirect case head(HTTPHeadParser, acceptedAt: UInt64)
        case webSocket(WebSocketCodec)
        /// Routed to an answer that comes later (``RouteResult/deferred(start:)``): input is discarded meanwhile.
        case deferred(HTTPResponder)
        case done
    }

    // One of these per connection: the small fields follow `phase` to fill its padding (RoomFootprintTests).

    /// Unique per server, never reused.
    public let id: UInt64
    let tcp: TCPConnection
    unowned let server: Server
    var phase: Phase
    /// Accepted on the private operations port: only `/metrics`, `/healthz` and `/readyz` are served.
    var isOperations = false
    private var endpointNotified = false
    /// Whether the WebSocket is open (upgraded, and no close sent, received or failed): kept beside `phase` so that
    /// the send path tests a flag instead of copying the codec out of the enum.
    private var webSocketOpen = false
    /// Index in the server's connection list (swap-remove); -1 when not in it.
    var slot: Int32 = -1
    /// The endpoint serving this WebSocket, once upgraded.
    private(set) var endpoint: WebSocketEndpoint?
    /// What the application attached: from routing to the open, a ``context`` (e.g. the verified identity and room);
    /// once open, a ``tag`` of its own (e.g. where it keeps the connection's state). One field for both: a
    /// connection needs only one at a time.
    private var attachment = Attachment.none
    private enum Attachment {
        case none
        case context(AnyObject)
        case tag(UInt64)
    }

    // The three times below are the loop's milliseconds in 32 bits (``clock(_:)``), compared by wrapping
    // subtraction: right for any span under 49 days, and keepalive never lets a connection go that long unheard.
    /// When the last byte was received, or the accept.
    var lastActivity: UInt32
    /// When a keepalive ping was sent and not yet answered; 0 when none is outstanding.
    var pingSentAt: UInt32 = 0
    /// When a close handshake we started began (it is cut short after the close timeout); 0 when none.
    var closeStartedAt: UInt32 = 0

    /// The loop's time in milliseconds as these fields keep it; never 0, which means "none".
    @inline(__always)
    public static func clock(_ milliseconds: UInt64) -> UInt32 { max(1, UInt32(truncatingIfNeeded: milliseconds)) }

    /// Milliseconds from `then` (a ``clock(_:)`` value) to `now` (the loop's milliseconds).
    @inline(__always)
    static func elapsed(since then: UInt32, now: UInt64) -> UInt64 { UInt64(clock(now) &- then) }

    /// Whatever the application attached at routing time (e.g. the verified identity and room). Setting it
    /// replaces a ``tag``.
    public var context: AnyObject? {
        get { if case .context(let object) = attachment { object } else { nil } }
        set { attachment = newValue.map { .context($0) } ?? .none }
    }

    /// A number the application gives an open connection to find its own state for it; opaque to the server.
    /// Setting it replaces the ``context``.
    public var tag: UInt64? {
        get { if case .tag(let value) = attachment { value } else { nil } }
        set { attachment = newValue.map { .tag($0) } ?? .none }
    }

    init(id: UInt64, tcp: TCPConnection, server: Server, now: UInt64) {
        self.id = id
        self.tcp = tcp
        self.server = server
        self.lastActivity = Self.clock(now)
        self.phase = .head(HTTPHeadParser(limits: server.configuration.httpLimits), acceptedAt: now)
    }

    /// Whether the WebSocket is open for sending.
    public var isOpen: Bool { webSocketOpen && !tcp.isClosed }

    // MARK: Sending

    /// Sends one text message.
    public func send(text: [UInt8]) { send(.text, text) }

    /// Sends one binary message.
    public func send(binary: [UInt8]) { send(.binary, binary) }

    private func send(_ opcode: WebSocketOpcode, _ payload: [UInt8]) {
        guard isOpen else { return }
        var frame = [UInt8]()
        frame.reserveCapacity(WebSocketFrame.headerSize(payloadCount: payload.count, masked: false) + payload.count)
        WebSocketFrame.encode(opcode: opcode, payload: payload, into: &frame)
        send(encodedFrame: frame)
    }

    /// Sends a frame already encoded (a broadcast encodes once and sends the same bytes to every recipient).
    public func send(encodedFrame frame: [UInt8]) {
        frame.withUnsafeBytes { send(encodedFrame: $0) }
    }

    /// Sends a frame already encoded, copied from `frame` into the outbound queue.
    public func send(encodedFrame frame: UnsafeRawBufferPointer) {
        guard isOpen else { return }
        // Only a full queue makes a slow consumer; a write refused because the socket is already finishing is not one.
        guard tcp.queuedBytes + frame.count <= tcp.maxQueuedBytes else { return slowConsumer() }
        tcp.write(frame)
    }

    /// The outbound queue is full: the client isn't reading. Close with a clear code rather than buffer forever.
    private func slowConsumer() {
        server.metrics?.slowConsumerCloses.increment()
        server.logger.warning("slow consumer closed", metadata: ["conn": "\(id)", "queued": "\(tcp.queuedBytes)"])
        close(code: WebSocketCloseCode.policyViolation, reason: "slow consumer", force: true)
    }

    /// Starts the close handshake with `code`. The endpoint is told when the connection is gone.
    public func close(code: UInt16, reason: String) { close(code: code, reason: reason, force: false) }

    func close(code: UInt16, reason: String, force: Bool) {
        switch phase {
        case .webSocket(var webSocket):
            guard let frame = webSocket.startClose(code: code, reason: reason) else { return }
            phase = .webSocket(webSocket)
            webSocketOpen = false
            if force { tcp.maxQueuedBytes = tcp.queuedBytes + frame.count }
            tcp.write(frame)
            closeStartedAt = Self.clock(tcp.loop.nowMilliseconds)
        case .head:
            setDone()
            tcp.finish(timeoutMilliseconds: server.configuration.closeTimeoutMilliseconds)
        case .deferred(let responder):
            responder.respond(status: 503, headers: [HTTPHeader(name: "Retry-After", value: "5")],
                              body: Array("Server shutting down\n".utf8))
        case .done:
            break
        }
    }

    /// Cuts the TCP connection now.
    func abort(_ reason: DisconnectReason) {
        notifyEndpoint(reason)
        setDone()
        tcp.close()
    }

    func sendPing() {
        guard webSocketOpen else { return }
        var frame: [UInt8] = []
        WebSocketFrame.encode(opcode: .ping, payload: [], into: &frame)
        tcp.write(frame)
    }

    // MARK: Input

    public func connection(_ connection: TCPConnection, didRead bytes: UnsafeRawBufferPointer) {
        lastActivity = Self.clock(tcp.loop.nowMilliseconds)
        pingSentAt = 0
        switch phase {
        case .head(var parser, let acceptedAt):
            switch parser.feed(bytes) {
            case .needMore:
                phase = .head(parser, acceptedAt: acceptedAt)
            case .failure(let error):
                respond(HTTPResponse.error(error))
            case .complete(let head, let consumed):
                setDone()
                server.route(head, connection: self)
                if consumed < bytes.count, case .webSocket = phase {
                    receiveWebSocket(UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
                }
            }
        case .webSocket:
            receiveWebSocket(bytes)
        case .deferred, .done:
            break
        }
    }

    /// Writes a complete HTTP response and closes after it.
    func respond(_ response: [UInt8]) {
        setDone()
        tcp.write(response)
        tcp.finish(timeoutMilliseconds: server.configuration.closeTimeoutMilliseconds)
    }

    /// Switches to the WebSocket phase after the 101 response is queued.
    func upgrade(response: [UInt8], endpoint: WebSocketEndpoint, limits: WebSocketLimits, maxQueuedBytes: Int) {
        tcp.maxQueuedBytes = maxQueuedBytes
        tcp.write(response)
        phase = .webSocket(WebSocketCodec(role: .server, limits: limits))
        webSocketOpen = true
        self.endpoint = endpoint
        endpoint.webSocketDidOpen(self)
    }

    private func receiveWebSocket(_ bytes: UnsafeRawBufferPointer) {
        guard case .webSocket(var webSocket) = phase else { return }
        // Take the codec out of `phase` while it works, so that handlers may call back into this connection.
        phase = .done
        var actions: [WebSocketAction] = []
        webSocket.receive(bytes) { actions.append($0) }
        phase = .webSocket(webSocket)
        webSocketOpen = webSocket.state == .open
        for action in actions { perform(action) }
    }

    private func perform(_ action: WebSocketAction) {
        switch action {
        case .text(let text):
            if isOpen { endpoint?.webSocket(self, didReceiveText: text) }
        case .binary(let data):
            if isOpen { endpoint?.webSocket(self, didReceiveBinary: data) }
        case .write(let bytes):
            tcp.maxQueuedBytes = max(tcp.maxQueuedBytes, tcp.queuedBytes + bytes.count)  // a close frame always fits
            tcp.write(bytes)
        case .sendPong(let frame):
            // A peer that pings without reading gets one pong held back, not one queued per ping; pongs count
            // against the outbound cap like every other frame.
            if tcp.isBackedUp {
                tcp.writeAfterBacklog(frame)
            } else if tcp.queuedBytes + frame.count <= tcp.maxQueuedBytes {
                tcp.write(frame)
            } else {
                slowConsumer()
            }
        case .fragment:
            if isOpen { endpoint?.webSocketDidReceiveFragment(self) }
        case .ping, .pong:
            break
        case .peerClosed(let code, _):
            notifyEndpoint(.closed(code: code))
        case .failed(let code, _):
            server.logger.debug("websocket protocol error", metadata: ["conn": "\(id)", "code": "\(code)"])
            notifyEndpoint(.dropped)
        case .closeConnection:
            notifyEndpoint(.dropped)
            setDone()
            tcp.finish(timeoutMilliseconds: server.configuration.closeTimeoutMilliseconds)
        }
    }

    private func setDone() {
        phase = .done
        webSocketOpen = false
    }

    private func notifyEndpoint(_ reason: DisconnectReason) {
        guard !endpointNotified, let endpoint else { return }
        endpointNotified = true
        endpoint.webSocketDidClose(self, reason: reason)
    }

    public func connectionDidClose(_ connection: TCPConnection, error: LoopError?) {
        notifyEndpoint(.dropped)
        setDone()
        endpoint = nil
        attachment = .none
        server.remove(self)
    }
}
