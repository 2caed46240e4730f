import CircleClient
import CircleLoop
import CircleWebSocket

/// One simulated participant: a ``WebSocketClient`` on the load loop, with the little it must remember to act like
/// a real client (its room's last `seq`, who is connected, the queue, the floor) and its pending requests.
/// Behaviour lives in ``LoadRunner``; this class carries messages and state.
final class LoadClient: WebSocketClientDelegate {
    unowned let runner: LoadRunner
    /// Index among all clients of the run.
    let index: Int
    /// Index of the room, and of the client in it (0 is the facilitator).
    let room: Int
    let seat: Int
    /// The participant id (`f`, `m1`, `m2`…): the token's `sub`.
    let participant: String
    let token: String

    private(set) var socket: WebSocketClient!
    var random: SplitMix
    var pacer: Pacer
    /// Messages waiting for the pacer.
    var backlog: [Outgoing] = []
    var inBacklogList = false

    // What the client knows of its room.
    var joinedOnce = false
    var welcomed = false
    var lastSeq: UInt64 = 0
    var phase = "intro"
    var floor: String?
    var queue: [String] = []
    var connectedPeers: Set<Int> = []
    var sessionEnded = false
    /// The `epoch` of the last welcome (sent back with `since`; absent when the server keeps no store).
    var epoch: UInt64?

    // Restart mode (``LoadConfiguration/reconnect``).
    /// When the server ended this client's connection and it has not had its welcome back since (0: not out).
    var outageSince: UInt64 = 0
    /// Failed reconnects in this outage (the backoff's exponent).
    var reconnectAttempt = 0
    /// What this client held of its room when the session ended (for the mirror check).
    var finalView: RoomView?

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
    /// The request number of the last `give_floor` this facilitator sent (0: none).
    var giveFloorRequest = 0
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
        socket = WebSocketClient(delegate: self)
    }

    var isFacilitator: Bool { seat == 0 }
    var stage: WebSocketClient.Stage { socket.stage }
    var isOpen: Bool { socket.isOpen }

    // MARK: Connecting

    /// Opens the WebSocket to the room; `since` resumes.
    func connect(since: UInt64?) {
        closingOnPurpose = false
        welcomed = false
        connectStartedAt = EventLoop.hrtime
        runner.metrics.connectAttempts += 1
        var filter: TLSClientFilter?
        if let context = runner.tlsContext {
            guard let tls = try? TLSClientFilter(context: context) else {
                runner.connectFailed(self, code: "tls_failed")
                return
            }
            filter = tls
        }
        var path = "/rooms/\(runner.roomID(room))?access_token=\(token)"
        if let since {
            path += "&since=\(since)"
            if let epoch { path += "&epoch=\(epoch)" }
        }
        let config = runner.configuration
        socket.connect(loop: runner.loop, host: config.host, port: config.port, path: path, filter: filter)
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

    /// Encodes and sends one message, stamping its send time into a probe as it leaves (after any wait in the pacer).
    private func write(_ message: Outgoing) {
        let now = EventLoop.hrtime
        if message.request > 0 { outstanding[message.request] = (now, message.kind) }
        switch message.kind {
        case .reaction: lastReactionSentAt = now
        case .media: lastMediaSentAt = now
        default: break
        }
        let r = random.next()
        let mask = (UInt8(truncatingIfNeeded: r), UInt8(truncatingIfNeeded: r >> 8),
                    UInt8(truncatingIfNeeded: r >> 16), UInt8(truncatingIfNeeded: r >> 24))
        if socket.send(.text, message.encoded(now: now), maskKey: mask) { runner.countSent() }
    }

    // MARK: Closing

    /// Drops the connection without a close frame (a network loss): the server starts the grace period.
    func drop() {
        closingOnPurpose = true
        socket.drop()
    }

    /// Starts a normal close.
    func close() {
        closingOnPurpose = true
        if !socket.startClose() { socket.drop() }
    }

    // MARK: WebSocketClientDelegate

    func webSocketClient(_ client: WebSocketClient, didReport event: WebSocketClient.Event) {
        switch event {
        case .connectFailed:
            runner.connectFailed(self, code: "connect_failed")
        case .connected:
            runner.openSockets += 1
        case .refused(let error):
            closingOnPurpose = true
            socket.drop()
            if case .unexpectedStatus(let status) = error {
                runner.connectFailed(self, code: "http_\(status)")
            } else {
                runner.connectFailed(self, code: "handshake_failed")
            }
        case .text(let text):
            runner.received(text, by: self)
        case .binary:
            runner.clientError(self, "unexpected_binary")
        case .protocolFailure:
            runner.clientError(self, "websocket_protocol")
        case .peerClosed(let code, _):
            runner.peerClosed(self, code: code)
        case .closeCompleted:
            socket.drop()
        case .closed:
            runner.openSockets -= 1
            backlog.removeAll()
            runner.clientClosed(self)
        case .status, .opened, .response, .ping, .pong:
            break
        }
    }
}
