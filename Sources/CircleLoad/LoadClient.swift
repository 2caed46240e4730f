import CircleHTTP
import CircleLoop
import CircleWebSocket

/// One simulated participant: a WebSocket on the load loop, in the client role of Circle's own codec, with the
/// little it must remember to act like a real client (its room's last `seq`, who is connected, the queue, the
/// floor) and its pending requests. Behaviour lives in ``LoadRunner``; this class carries bytes and state.
final class LoadClient: TCPConnectionDelegate {
    enum Stage {
        case idle
        case connecting
        case handshaking(WebSocketClientHandshake)
        case open
        case closed
    }

    unowned let runner: LoadRunner
    /// Index among all clients of the run.
    let index: Int
    /// Index of the room, and of the client in it (0 is the facilitator).
    let room: Int
    let seat: Int
    /// The participant id (`f`, `m1`, `m2`…): the token's `sub`.
    let participant: String
    let token: String

    var stage = Stage.idle
    var tcp: TCPConnection?
    var session = WebSocketSession(role: .client)
    var random: SplitMix
    var pacer: Pacer
    /// Messages waiting for the pacer.
    var backlog: [Outgoing] = []
    var inBacklogList = false
    private var frame: [UInt8] = []
    private var actions: [WebSocketAction] = []

    // What the client knows of its room.
    var joinedOnce = false
    var welcomed = false
    var lastSeq: UInt64 = 0
    var phase = "intro"
    var floor: String?
    var queue: [String] = []
    var connectedPeers: Set<Int> = []
    var sessionEnded = false

    // Timing.
    var connectStartedAt: UInt64 = 0
    var lastReactionSentAt: UInt64 = 0
    var lastMediaSentAt: UInt64 = 0
    var nextActionAt: UInt64 = 0
    var rejoinAt: UInt64 = 0
    var dropAt: UInt64 = 0
    var nextReactionAt: UInt64 = 0
    var nextMediaAt: UInt64 = 0
    /// The request number of the state-changing command in flight (hand, pass, media, facilitator command); 0: none.
    var stateRequest = 0
    var spokeThisRound = false
    var passedThisRound = false
    var mic = false
    var camera = false

    /// Request id counter and the send time of each outstanding request.
    var nextRequest = 0
    var outstanding: [Int: (sentAt: UInt64, kind: Outgoing.Kind)] = [:]
    /// Fanout: sends so far (for a fixed rate).
    var fanoutSent: UInt64 = 0
    /// Whether this client drops and resumes mid-session, and whether it already has.
    var churns = false
    var churned = false
    /// We closed on purpose (churn or the end): the close is not an error.
    var closingOnPurpose = false

    init(runner: LoadRunner, index: Int, room: Int, seat: Int, token: String, pacer: Pacer) {
        self.runner = runner
        self.index = index
        self.room = room
        self.seat = seat
        self.participant = seat == 0 ? "f" : "m\(seat)"
        self.token = token
        self.random = SplitMix(seed: UInt64(index) &* 0x2545_F491_4F6C_DD1D)
        self.pacer = pacer
    }

    var isFacilitator: Bool { seat == 0 }
    var isOpen: Bool { if case .open = stage { return true } else { return false } }

    // MARK: Connecting

    /// Opens the TCP connection and sends the upgrade request; `since` resumes.
    func connect(since: UInt64?) {
        stage = .connecting
        closingOnPurpose = false
        welcomed = false
        connectStartedAt = EventLoop.hrtime
        runner.metrics.connectAttempts += 1
        let config = runner.configuration
        TCPConnection.connect(loop: runner.loop, host: config.host, port: config.port) { [self] result in
            switch result {
            case .failure:
                stage = .closed
                runner.connectFailed(self, code: "connect_failed")
            case .success(let tcp):
                self.tcp = tcp
                runner.openSockets += 1
                tcp.delegate = self
                if let context = runner.tlsContext {
                    guard let filter = try? TLSClientFilter(context: context) else {
                        tcp.close()
                        return
                    }
                    tcp.filter = filter
                }
                tcp.startReading()
                var path = "/rooms/\(runner.roomID(room))?access_token=\(token)"
                if let since { path += "&since=\(since)" }
                let key = WebSocketHandshake.makeKey()
                stage = .handshaking(WebSocketClientHandshake(key: key))
                tcp.write(WebSocketHandshake.clientRequest(host: "\(config.host):\(config.port)", path: path, key: key))
            }
        }
    }

    // MARK: Sending

    /// Sends one message through the pacer.
    func send(_ message: Outgoing) {
        guard isOpen else { return }
        if backlog.isEmpty && pacer.take(now: EventLoop.hrtime) {
            write(message)
        } else {
            backlog.append(message)
            if !inBacklogList {
                inBacklogList = true
                runner.backlogged.append(self)
            }
        }
    }

    /// Sends what the pacer allows now; returns whether a backlog remains.
    func drainBacklog(now: UInt64) -> Bool {
        guard isOpen else { backlog.removeAll(); inBacklogList = false; return false }
        var sent = 0
        while sent < backlog.count && pacer.take(now: now) {
            write(backlog[sent])
            sent += 1
        }
        backlog.removeFirst(sent)
        inBacklogList = !backlog.isEmpty
        return inBacklogList
    }

    /// A fresh request number (sent as `"c<n>"`).
    func newRequest() -> Int {
        nextRequest += 1
        return nextRequest
    }

    /// Frames and queues one message, stamping its send time where it asks for one (at the moment it leaves,
    /// after any wait in the pacer).
    private func write(_ message: Outgoing) {
        var text = message.text
        let now = EventLoop.hrtime
        if message.stampOffset >= 0 { Outgoing.stamp(&text, at: message.stampOffset, now) }
        if message.request > 0 { outstanding[message.request] = (now, message.kind) }
        switch message.kind {
        case .reaction: lastReactionSentAt = now
        case .media: lastMediaSentAt = now
        default: break
        }
        let r = random.next()
        frame.removeAll(keepingCapacity: true)
        WebSocketFrame.encode(opcode: .text, payload: text, maskKey: (UInt8(truncatingIfNeeded: r),
            UInt8(truncatingIfNeeded: r >> 8), UInt8(truncatingIfNeeded: r >> 16), UInt8(truncatingIfNeeded: r >> 24)),
            into: &frame)
        if tcp?.write(frame) == true { runner.countSent() }
    }

    // MARK: Closing

    /// Drops the connection without a close frame (a network loss): the server starts the grace period.
    func drop() {
        closingOnPurpose = true
        tcp?.close()
    }

    /// Starts a normal close.
    func close() {
        closingOnPurpose = true
        guard isOpen, let closeFrame = session.startClose(code: WebSocketCloseCode.normal, reason: "") else {
            tcp?.close()
            return
        }
        tcp?.write(closeFrame)
    }

    // MARK: TCPConnectionDelegate

    func connection(_ connection: TCPConnection, didRead bytes: UnsafeRawBufferPointer) {
        switch stage {
        case .handshaking(var handshake):
            switch handshake.feed(bytes) {
            case .needMore:
                stage = .handshaking(handshake)
            case .failed(let error):
                stage = .closed
                closingOnPurpose = true
                connection.close()
                if case .unexpectedStatus(let status) = error {
                    runner.connectFailed(self, code: "http_\(status)")
                } else {
                    runner.connectFailed(self, code: "handshake_failed")
                }
            case .accepted(_, let consumed):
                stage = .open
                session = WebSocketSession(role: .client)
                if consumed < bytes.count { receive(UnsafeRawBufferPointer(rebasing: bytes[consumed...])) }
            }
        case .open:
            receive(bytes)
        case .idle, .connecting, .closed:
            break
        }
    }

    private func receive(_ bytes: UnsafeRawBufferPointer) {
        // Collect first: handlers may send or close, which touches the session.
        var actions = self.actions
        self.actions = []
        session.receive(bytes) { actions.append($0) }
        for action in actions {
            switch action {
            case .text(let text):
                runner.received(text, by: self)
            case .write(let w), .sendPong(let w):
                tcp?.write(w)
            case .binary:
                runner.clientError(self, "unexpected_binary")
            case .failed:
                runner.clientError(self, "websocket_protocol")
            case .peerClosed(let code, _):
                runner.peerClosed(self, code: code)
            case .closeConnection:
                tcp?.close()
            case .ping, .pong, .fragment:
                break
            }
        }
        actions.removeAll(keepingCapacity: true)
        self.actions = actions
    }

    func connectionDidClose(_ connection: TCPConnection, error: LoopError?) {
        tcp = nil
        runner.openSockets -= 1
        stage = .closed
        backlog.removeAll()
        runner.clientClosed(self)
    }
}
