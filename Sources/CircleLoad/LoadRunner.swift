import CircleAuth
import CircleLoop
import CircleTLS
import Glibc

/// Plays a load run on one libuv loop: opens every client on the ramp, drives the scenario, measures, and stops
/// by itself after the duration (plus a short drain). Everything runs on the loop's thread; one monotonic clock
/// (`EventLoop.hrtime`) times every send and every receipt, so latency is measured end to end.
///
/// Use ``start()`` and run the loop (``run()`` does both); ``onFinished`` fires once the run is over and every
/// handle the runner opened is closed.
public final class LoadRunner {
    /// The loop the clients live on.
    public let loop: EventLoop
    /// The run's settings.
    public let configuration: LoadConfiguration
    /// What was measured so far.
    public internal(set) var metrics = LoadMetrics()
    /// Whether the run is over.
    public private(set) var finished = false
    /// Called once when the run is over.
    public var onFinished: (() -> Void)?
    /// Called every second with the new timeline sample (for a progress line).
    public var onSecond: ((LoadSample) -> Void)?
    /// Reads the server's resident memory in KiB (a spawned server), sampled once a second into the timeline.
    public var serverRSS: (() -> Int?)?

    var clients: [LoadClient] = []
    /// Clients by room, facilitator first.
    var rooms: [[LoadClient]] = []
    /// Clients in join order (facilitators first, then each room's first member, …).
    private var joinOrder: [LoadClient] = []
    private var joinCursor = 0
    /// Clients whose pacer holds messages back.
    var backlogged: [LoadClient] = []
    private let runID: String
    /// Payload members built once: SDP offer and answer, fanout padding.
    let offerSDP: [Probe.Member]
    let answerSDP: [Probe.Member]
    let fanoutPadding: [Probe.Member]

    // Times (ns of `EventLoop.hrtime`).
    private(set) var startedAt: UInt64 = 0
    /// The ramp is over: the steady window (for rates) starts.
    private(set) var steadyAt: UInt64 = 0
    /// Clients stop sending: the steady window ends.
    private(set) var stopAt: UInt64 = 0
    /// Facilitators end their sessions.
    private(set) var endAt: UInt64 = 0
    private var deadline: UInt64 = 0
    private var ended = false

    private var tick: LoopTimer?
    private var secondTimer: LoopTimer?
    /// The slice of the rooms the next tick sweeps (see `onTick`).
    private var sweepSlice = 0
    var facilitatorSteps: [Int] = []
    /// Per room: how far (a fraction of the steady window) its session runs behind the schedule, and how long its
    /// turns and silence are against the schedule's (0.8…1.2). Groups on one platform share an hour, not a
    /// millisecond: without these, a thousand rooms would change phase and end turns in lockstep.
    var roomLag: [Double] = []
    var roomTempo: [Double] = []
    private var atSteady: (sent: UInt64, delivered: UInt64)?
    private var atStop: (sent: UInt64, delivered: UInt64)?
    private var previous = LoadSample(second: 0, connected: 0, sent: 0, delivered: 0, received: 0, errors: 0)
    private var previousErrors = 0
    /// Clients with an open, welcomed WebSocket.
    var connectedCount = 0
    /// Clients whose TCP connection is open (connected and not yet closed): the drain ends when none is.
    public internal(set) var openSockets = 0
    /// Whether every client had closed when the run finished (else the drain deadline cut the rest).
    public private(set) var closedBeforeDeadline = false
    private var cpuAtStart = 0.0
    /// CPU time of this process over the run's wall time, percent of one core: near 100 the generator, not the
    /// server, is the limit.
    public private(set) var loadCPUPercent = 0.0

    private static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// The client TLS context every connection's `TLSClientFilter` is made from, with `configuration.tls`.
    let tlsContext: TLSContext?

    /// A runner on `loop`; nothing happens until ``start()``. Throws when TLS is asked for and its CA file can't be
    /// loaded.
    public init(loop: EventLoop, configuration: LoadConfiguration) throws(TLSError) {
        self.loop = loop
        self.configuration = configuration
        tlsContext = configuration.tls
            ? try TLSContext.client(trustedCAPath: configuration.tlsCAPath, serverName: configuration.host) : nil
        var seed = SplitMix(seed: EventLoop.hrtime)
        let r = seed.next()
        runID = String(r & 0xFFFFFF, radix: 16)
        offerSDP = Self.sdp("offer", bytes: configuration.sdpBytes)
        answerSDP = Self.sdp("answer", bytes: configuration.sdpBytes)
        fanoutPadding = Self.fanoutPadding(bytes: configuration.fanoutPayloadBytes)
    }

    /// The id of room `index` for this run.
    func roomID(_ index: Int) -> String { "\(configuration.roomPrefix)-\(runID)-\(index)" }

    /// Mints the tokens, creates the clients and starts the clock.
    public func start() {
        let c = configuration
        let now = EventLoop.hrtime
        let expiry = Int64(time(nil)) + Int64(c.durationSeconds) + 3600
        let rate = c.scenario == .fanout ? 1e12 : c.clientRate
        let burst = c.scenario == .fanout ? 1e12 : c.clientBurst
        let churners = Int((c.churn * Double(c.members)).rounded())
        for room in 0..<c.rooms {
            var members: [LoadClient] = []
            for seat in 0...c.members {
                let sub = seat == 0 ? "f" : "m\(seat)"
                let claims = TokenClaims(sub: sub, name: seat == 0 ? "Facilitator" : "Member \(seat)",
                                         room: roomID(room), role: seat == 0 ? .facilitator : .member, exp: expiry)
                let client = LoadClient(runner: self, index: clients.count, room: room, seat: seat,
                                        token: TokenMinter.mint(claims, secret: c.secret),
                                        pacer: Pacer(ratePerSecond: rate, burst: burst, now: now))
                client.churns = c.scenario == .session && seat > 0 && (seat + room) % c.members < churners
                clients.append(client)
                members.append(client)
            }
            rooms.append(members)
        }
        joinOrder = clients.sorted { ($0.seat, $0.room) < ($1.seat, $1.room) }
        facilitatorSteps = Array(repeating: 0, count: c.rooms)
        (roomLag, roomTempo) = Self.roomSchedules(c.rooms)
        startedAt = now
        cpuAtStart = Self.processCPUSeconds()
        steadyAt = now + UInt64(c.rampSeconds * 1e9)
        endAt = now + UInt64(c.durationSeconds * 1e9)
        stopAt = endAt - min(UInt64(0.5e9), (endAt - steadyAt) / 5)
        deadline = endAt + UInt64(c.drainSeconds * 1e9)

        let tick = LoopTimer(loop: loop)
        tick.start(afterMilliseconds: 1, repeatMilliseconds: 1) { [unowned self] in self.onTick() }
        self.tick = tick
        let second = LoopTimer(loop: loop)
        second.start(afterMilliseconds: 1000, repeatMilliseconds: 1000) { [unowned self] in self.onSecondTimer() }
        self.secondTimer = second
    }

    /// Starts and runs the loop until the run is over.
    public func run() {
        start()
        while !finished { loop.runOnce(wait: true) }
    }

    // MARK: The clock

    private func onTick() {
        let now = EventLoop.hrtime
        while joinCursor < joinOrder.count {
            let share = Double(joinCursor) / Double(joinOrder.count)
            let due = startedAt + UInt64(share * configuration.rampSeconds * 1e9)
            guard due <= now else { break }
            joinOrder[joinCursor].connect(since: nil)
            joinCursor += 1
        }
        if !backlogged.isEmpty {
            backlogged.removeAll { !$0.drainBacklog(now: now) }
        }
        if atSteady == nil && now >= steadyAt { atSteady = (metrics.sent, metrics.delivered) }
        if atStop == nil && now >= stopAt { atStop = (metrics.sent, metrics.delivered) }
        // Every client is looked at once per sweep (5 ms in fanout, 20 ms in sessions), but a tick (1 ms) sweeps
        // only its slice of the rooms: clients then act spread over time, as real ones do, instead of all at
        // once every sweep — a burst the server and this process would queue, and latency would measure.
        let slices = configuration.scenario == .fanout ? 5 : 20
        let slice = sweepSlice
        sweepSlice = (sweepSlice + 1) % slices
        sweep(rooms: rooms.count * slice / slices ..< rooms.count * (slice + 1) / slices, now: now)
        if now >= endAt && !ended {
            ended = true
            endSessions()
        }
        if ended && (now >= deadline || openSockets == 0) {
            closedBeforeDeadline = openSockets == 0
            finish()
        }
    }

    private func sweep(rooms slice: Range<Int>, now: UInt64) {
        let timeout = UInt64(configuration.joinTimeoutSeconds * 1e9)
        for room in slice { for client in rooms[room] {
            switch client.stage {
            case .open where client.welcomed:
                if now >= client.nextActionAt { act(client, now: now) }
            case .connecting, .handshaking, .open:
                if now > client.connectStartedAt && now - client.connectStartedAt > timeout {
                    client.closingOnPurpose = true
                    client.socket.drop()
                    connectFailed(client, code: "join_timeout")
                }
            case .closed where client.rejoinAt > 0 && now >= client.rejoinAt:
                client.rejoinAt = 0
                reconnecting(client)
                client.connect(since: client.lastSeq)
            case .idle, .plain, .closed:
                break
            }
        } }
        for room in slice { stepFacilitator(room, now: now) }
    }

    private func onSecondTimer() {
        let second = Int((EventLoop.hrtime - startedAt + 500_000_000) / 1_000_000_000)
        let errors = metrics.errorCount
        let sample = LoadSample(
            second: second, connected: connectedCount, sent: metrics.sent - previous.sent,
            delivered: metrics.delivered - previous.delivered, received: metrics.received - previous.received,
            errors: UInt64(errors - previousErrors),
            latencyP99Milliseconds: Double(metrics.latencyThisSecond.quantile(0.99)) / 1e6, serverRSSKiB: serverRSS?())
        metrics.latencyThisSecond = LatencyHistogram()
        previous = LoadSample(second: second, connected: 0, sent: metrics.sent, delivered: metrics.delivered,
                              received: metrics.received, errors: 0)
        previousErrors = errors
        metrics.timeline.append(sample)
        onSecond?(sample)
    }

    /// Stops early (an operator's Ctrl-C): clients stop sending and sessions end now, then the usual drain.
    public func stopEarly() {
        let now = EventLoop.hrtime
        guard !ended else { deadline = min(deadline, now); return }
        stopAt = min(stopAt, now)
        endAt = min(endAt, now)
        steadyAt = min(steadyAt, stopAt)
        deadline = now + UInt64(configuration.drainSeconds * 1e9)
    }

    /// The end of the run: every facilitator whose session is still on sends `end_session` (each ends its own near
    /// the end of its schedule; a run too short for that, or a room behind, ends here); then the server's closes
    /// are awaited.
    private func endSessions() {
        for room in rooms where room[0].isOpen && room[0].welcomed && !room[0].sessionEnded {
            room[0].send(.command(.endSession, request: room[0].newRequest()))
        }
        for client in clients where client.rejoinAt > 0 { client.rejoinAt = 0 }
    }

    private func finish() {
        guard !finished else { return }
        concludeOutages()
        for client in clients where client.socket.tcp != nil {
            client.closingOnPurpose = true
            client.socket.drop()
        }
        tick?.close()
        secondTimer?.close()
        tick = nil
        secondTimer = nil
        finished = true
        let wall = Double(EventLoop.hrtime - startedAt) / 1e9
        loadCPUPercent = wall > 0 ? (Self.processCPUSeconds() - cpuAtStart) / wall * 100 : 0
        onFinished?()
    }

    // MARK: Counters

    func countSent() { metrics.sent += 1 }

    /// The steady window's rates: messages sent and measured deliveries per second between the end of the ramp
    /// and the moment clients stop sending.
    public var steadyRates: (sentPerSecond: Double, deliveredPerSecond: Double) {
        let seconds = Double(stopAt - steadyAt) / 1e9
        guard let a = atSteady, seconds > 0 else { return (0, 0) }
        let b = atStop ?? (metrics.sent, metrics.delivered)
        return (Double(b.sent - a.sent) / seconds, Double(b.delivered - a.delivered) / seconds)
    }

    func connectFailed(_ client: LoadClient, code: String) {
        if configuration.reconnect && client.joinedOnce && !ended {
            // Restart mode: the server is down or not yet taking this room back; try again later.
            beginOutage(client, why: code)
            metrics.outages.failedAttempts[code, default: 0] += 1
            reconnectLater(client)
            return
        }
        metrics.connectFailures += 1
        metrics.error(code)
    }

    func clientError(_ client: LoadClient, _ code: String) { metrics.error(code) }

    func peerClosed(_ client: LoadClient, code: UInt16?) {
        if client.sessionEnded && code == 1000 { return }
        if client.closingOnPurpose { return }
        if configuration.reconnect && client.joinedOnce && Self.resumable(code) {
            beginOutage(client, why: code.map(String.init) ?? "1005")  // the reconnect follows the close
            return
        }
        metrics.error("closed_\(code.map(String.init) ?? "no_code")")
        client.closingOnPurpose = true  // counted once
    }

    func clientClosed(_ client: LoadClient) {
        let hadWelcome = client.welcomed
        if hadWelcome { connectedCount -= 1 }
        client.welcomed = false
        // Requests in flight on this connection get no answer: the client may act again once back.
        client.outstanding.removeAll()
        client.stateRequest = 0
        if client.closingOnPurpose || client.sessionEnded { return }
        if configuration.reconnect && client.joinedOnce && !ended {
            if client.outageSince == 0 {
                beginOutage(client, why: "1006")  // closed with no close frame: a crash or a reset
            } else if !hadWelcome {
                metrics.outages.failedAttempts["closed_before_welcome", default: 0] += 1
            }
            reconnectLater(client)
            return
        }
        if hadWelcome {
            metrics.error("connection_lost")
        } else {
            connectFailed(client, code: "closed_before_welcome")
        }
    }
}
