import Glibc
import CircleHTTP
import CircleLoop
import CircleTLS
import CircleWebSocket
import Logging

/// The HTTP/WebSocket server on one loop: listeners, connections, routing, keepalive, graceful shutdown.
public final class Server {
    public let loop: EventLoop
    public let configuration: ServerConfiguration
    public let logger: Logger
    /// The application's routes (rooms, …); nil serves only the built-in routes.
    public weak var application: HTTPApplication?
    /// Called once when a graceful shutdown has finished and every handle the server owned is closed.
    public var onStopped: (() -> Void)?

    private var listeners: [TCPListener] = []
    private(set) var connections: [ServerConnection] = []
    private var sweepTimer: LoopTimer?
    private var signalWatchers: [SignalWatcher] = []
    private var nextConnectionID: UInt64 = 1
    private let echo = EchoEndpoint()
    private var shutdownDeadline: UInt64 = 0
    private var lastAcceptErrorLog: UInt64 = 0
    public private(set) var isDraining = false
    /// `configuration.maxConnections`, lowered to fit the process's file-descriptor limit.
    public private(set) var connectionLimit = 0
    private var lastLimitLog: UInt64 = 0
    private var stopped = false
    /// The context new TLS connections are made from; `reloadTLS` replaces it.
    var tlsContext: TLSContext?
    /// TLS handshakes completed.
    public internal(set) var tlsHandshakes = 0
    /// TLS handshakes that failed: plain-text or garbage clients, no shared version or cipher, bad records.
    public internal(set) var tlsHandshakeFailures = 0
    /// What each listener is bound to, plain listeners first.
    public private(set) var listening: [ListeningAddress] = []
    /// The web client's files from `configuration.webRoot`, loaded at init; nil when none is configured or it
    /// could not be loaded (the reason is logged).
    public let staticFiles: StaticFiles?
    /// Metrics to keep and export (`/metrics`); nil keeps none. Set before `start` (or, in tests, after it).
    public var metrics: ServerMetrics? {
        didSet { if sweepTimer != nil { startLagProbe() } }
    }
    /// Fires every ``lagProbeIntervalMilliseconds`` while metrics are kept: how late it fires is the loop's lag.
    private var lagProbe: LoopTimer?
    private var lagProbeLastFired: UInt64 = 0
    /// The lag probe's period.
    static let lagProbeIntervalMilliseconds: UInt64 = 100
    /// The private listeners for `/metrics`, `/healthz` and `/readyz` (`configuration.metricsPort`).
    var operationsListeners: [TCPListener] = []
    /// A deferred request (``RouteResult/deferred(start:)``) not answered within this time gets 503. Checked by the
    /// connection sweep, so it fires up to one sweep interval late.
    public var deferredTimeoutMilliseconds: UInt64 = 10_000

    public init(loop: EventLoop, configuration: ServerConfiguration, logger: Logger) {
        self.loop = loop
        self.configuration = configuration
        self.logger = logger
        staticFiles = configuration.webRoot.flatMap { root in
            do { return try StaticFiles(root: root) } catch {
                logger.error("web root not served", metadata: ["error": "\(error)"])
                return nil
            }
        }
    }

    /// The number of open client connections.
    public var connectionCount: Int { connections.count }

    /// Loads the TLS certificate and key (when configured), binds every configured address and starts accepting.
    /// Returns the bound addresses (real ports), plain listeners first. Throws a `LoopError` or a `TLSError`.
    @discardableResult
    public func start() throws -> [SocketAddress] {
        EventLoop.ignoreSIGPIPE()
        connectionLimit = Self.effectiveConnectionLimit(configuration.maxConnections)
        if let tls = configuration.tls { tlsContext = try Self.makeTLSContext(tls) }
        do throws(LoopError) {
            for plan in configuration.listenerPlan {
                var port = plan.port
                for host in configuration.hosts {
                    // With port 0, the first listener picks a free port and the others (e.g. IPv6) share it.
                    let listener = try TCPListener(loop: loop, host: host, port: port)
                    port = listener.port
                    let isTLS = plan.isTLS
                    listener.onConnection = { [unowned self] in self.accept($0, tls: isTLS) }
                    listener.onAcceptError = { [unowned self] in self.acceptFailed($0) }
                    listeners.append(listener)
                    listening.append(ListeningAddress(address: listener.address, isTLS: isTLS))
                    logger.info("listening", metadata: ["address": "\(listener.address)", "tls": "\(isTLS)"])
                }
            }
            try startOperationsListeners()
        } catch {
            for l in listeners { l.close() }
            listeners = []
            listening = []
            throw error
        }
        logger.info("connection limit", metadata: ["max": "\(connectionLimit)"])
        let timer = LoopTimer(loop: loop)
        let interval = configuration.sweepIntervalMilliseconds
        timer.start(afterMilliseconds: interval, repeatMilliseconds: interval) { [unowned self] in self.sweep() }
        sweepTimer = timer
        startLagProbe()
        return listeners.map(\.address)
    }

    /// Measures the loop's lag while metrics are kept: a timer due every 100 ms records how late it ran
    /// (`circle_loop_lag_seconds`), which shows turns that hold the thread. libuv's timers tick in whole milliseconds.
    private func startLagProbe() {
        guard metrics != nil, lagProbe == nil, !stopped else { return }
        let probe = LoopTimer(loop: loop)
        let interval = Self.lagProbeIntervalMilliseconds
        lagProbeLastFired = EventLoop.hrtime
        probe.start(afterMilliseconds: interval, repeatMilliseconds: interval) { [unowned self] in
            let now = EventLoop.hrtime, elapsed = now &- self.lagProbeLastFired, period = interval * 1_000_000
            let late = elapsed > period ? elapsed - period : 0
            self.lagProbeLastFired = now
            self.metrics?.loopLag.recordNanoseconds(Int64(late))
        }
        lagProbe = probe
    }

    /// SIGINT and SIGTERM start a graceful shutdown; with TLS, SIGHUP reloads the certificate and key.
    public func installSignalHandlers() throws(LoopError) {
        if configuration.tls != nil {
            signalWatchers.append(try SignalWatcher(loop: loop, signal: SIGHUP) { [unowned self] _ in
                self.reloadTLS()
            })
        }
        for signum in [SIGINT, SIGTERM] {
            let watcher = try SignalWatcher(loop: loop, signal: signum) { [unowned self] signum in
                self.logger.info("signal received, shutting down", metadata: ["signal": "\(signum)"])
                self.beginShutdown()
            }
            signalWatchers.append(watcher)
        }
    }

    // MARK: Connections

    func accept(_ tcp: TCPConnection, tls: Bool, operations: Bool = false) {
        if tls && !attachTLS(to: tcp, connectionID: nextConnectionID) { return }
        let connection = ServerConnection(id: nextConnectionID, tcp: tcp, server: self, now: loop.nowMilliseconds)
        nextConnectionID += 1
        tcp.delegate = connection
        connection.slot = Int32(connections.count)
        connections.append(connection)
        if operations {
            connection.isOperations = true  // private port: answered while draining and at capacity
        } else if isDraining {
            connection.respond(HTTPResponse.error(HTTPError(status: 503, reason: "Server shutting down")))
        } else if connections.count > connectionLimit {
            let now = loop.nowMilliseconds
            if lastLimitLog == 0 || now - lastLimitLog >= 1000 {
                lastLimitLog = now
                logger.warning("connection limit reached", metadata: ["limit": "\(connectionLimit)"])
            }
            connection.respond(HTTPResponse.error(HTTPError(status: 503, reason: "Server at capacity"),
                                                  extraHeaders: [HTTPHeader(name: "Retry-After", value: "5")]))
        }
        tcp.startReading()
    }

    /// Connections are refused with 503 before the process runs out of descriptors: libuv sheds connections it cannot
    /// accept on EMFILE without telling anyone, so the server keeps a reserve for its own files and for answering.
    /// Descriptors already open at start (inherited ones included) are not available to clients.
    static func effectiveConnectionLimit(_ configured: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < UInt(Int.max) else {
            return configured
        }
        let descriptors = Int(limit.rlim_cur)
        let reserve = descriptors >= 1024 ? 64 : 8
        return max(1, min(configured, descriptors - openDescriptors() - reserve))
    }

    /// How many descriptors the process has open now (Linux: entries of /proc/self/fd, less the one reading it).
    static func openDescriptors() -> Int {
        guard let dir = opendir("/proc/self/fd") else { return 0 }
        defer { closedir(dir) }
        var count = -3  // ".", ".." and the directory's own descriptor
        while readdir(dir) != nil { count += 1 }
        return max(0, count)
    }

    private func acceptFailed(_ error: LoopError) {
        // EMFILE/ENFILE: libuv has already shed the pending connection; log at most once a second.
        let now = loop.nowMilliseconds
        if now - lastAcceptErrorLog >= 1000 || lastAcceptErrorLog == 0 {
            lastAcceptErrorLog = now
            logger.error("accept failed", metadata: ["error": "\(error.name)", "connections": "\(connections.count)"])
        }
    }

    func remove(_ connection: ServerConnection) {
        let slot = Int(connection.slot)
        guard slot >= 0, slot < connections.count, connections[slot] === connection else { return }
        let last = connections.removeLast()
        if slot < connections.count {
            connections[slot] = last
            last.slot = Int32(slot)
        }
        connection.slot = -1
        if isDraining && connections.isEmpty { finishShutdown() }
    }

    // MARK: Routing

    func route(_ head: HTTPRequestHead, connection: ServerConnection) {
        if connection.isOperations || head.path == "/readyz" || head.path == "/metrics" {
            return routeOperations(head, connection: connection)
        }
        if isDraining {
            connection.respond(HTTPResponse.error(HTTPError(status: 503, reason: "Server shutting down")))
            return
        }
        if let preflight = crossOrigin.preflight(head), servesCrossOrigin(head.path) {
            return connection.respond(preflight)
        }
        if let result = application?.route(head, connection: connection) {
            perform(result, head: head, connection: connection)
            return
        }
        switch head.path {
        case "/healthz":
            guard head.method == "GET" else { return methodNotAllowed(connection, allowed: ["GET"]) }
            let response = HTTPResponse.make(status: 200, headers: [
                HTTPHeader(name: "Content-Type", value: "text/plain; charset=utf-8"),
                HTTPHeader(name: "Connection", value: "close"),
            ], body: Array("ok\n".utf8))
            connection.respond(response)
        case "/echo" where configuration.conformanceEcho:
            guard head.method == "GET" else { return methodNotAllowed(connection, allowed: ["GET"]) }
            perform(.webSocket(endpoint: echo, context: nil, limits: configuration.echoLimits,
                               maxQueuedBytes: configuration.maxQueuedBytesEcho), head: head, connection: connection)
        default:
            if let response = staticFiles?.response(for: head) { return respond(response, to: head, on: connection) }
            respond(HTTPResponse.error(HTTPError(status: 404, reason: "Not Found")), to: head, on: connection)
        }
    }

    /// The CORS policy for the public routes (`configuration.allowedOrigins`).
    private var crossOrigin: CrossOrigin { CrossOrigin(allowedOrigins: configuration.allowedOrigins) }

    /// Paths a page on another origin may read: the web client's files, the rooms (the library's probe) and the
    /// groups' records (so a page can tell "no records kept here", a 404, from a network failure).
    private func servesCrossOrigin(_ path: String) -> Bool {
        path.hasPrefix("/rooms/") || path.hasPrefix("/groups/") || staticFiles?.serves(path) == true
            || application?.servesCrossOrigin(path) == true
    }

    /// Sends `response` with the CORS headers for `head` when its path is one other origins may read.
    private func respond(_ response: [UInt8], to head: HTTPRequestHead, on connection: ServerConnection) {
        guard servesCrossOrigin(head.path) else { return connection.respond(response) }
        connection.respond(CrossOrigin.adding(crossOrigin.headers(for: head), to: response))
    }

    /// Every 405 the public routes send: `Allow` lists `allowed`.
    private func methodNotAllowed(_ connection: ServerConnection, allowed: [String]) {
        let allow = HTTPHeader(name: "Allow", value: allowed.joined(separator: ", "))
        connection.respond(HTTPResponse.error(HTTPError(status: 405, reason: "Method Not Allowed"),
                                              extraHeaders: [allow]))
    }

    /// An application's answer: `Connection: close` added, CORS headers where the path takes them, and for HEAD the
    /// headers alone (with the `Content-Length` the body would have).
    func respond(status: Int, headers: [HTTPHeader], body: [UInt8], to head: HTTPRequestHead,
                 on connection: ServerConnection) {
        var all = headers
        all.append(HTTPHeader(name: "Connection", value: "close"))
        var payload = body
        if head.method == "HEAD" {
            all.append(HTTPHeader(name: "Content-Length", value: String(body.count)))
            payload = []
        }
        respond(HTTPResponse.make(status: status, headers: all, body: payload), to: head, on: connection)
    }

    private func perform(_ result: RouteResult, head: HTTPRequestHead, connection: ServerConnection) {
        switch result {
        case .response(let status, let headers, let body):
            respond(status: status, headers: headers, body: body, to: head, on: connection)
        case .methodNotAllowed(let allowed):
            methodNotAllowed(connection, allowed: allowed)
        case .deferred(let start):
            let responder = HTTPResponder(head: head, connection: connection, startedAt: loop.nowMilliseconds)
            connection.phase = .deferred(responder)
            start(responder)
        case .webSocket(let endpoint, let context, let limits, let maxQueued, let subprotocol):
            var options = WebSocketHandshake.Options(allowedOrigins: configuration.allowedOrigins)
            if let subprotocol {
                options.selectSubprotocol = { @Sendable offered in offered.contains(subprotocol) ? subprotocol : nil }
            }
            switch WebSocketHandshake.accept(head, options: options) {
            case .failure(let failure):
                respond(HTTPResponse.error(failure.error, extraHeaders: failure.headers), to: head, on: connection)
            case .success(let accepted):
                connection.context = context
                connection.upgrade(response: accepted.response, endpoint: endpoint,
                                   limits: limits ?? configuration.webSocketLimits,
                                   maxQueuedBytes: maxQueued ?? configuration.maxQueuedBytesPerConnection)
            }
        }
    }

    // MARK: Timers: head deadline, keepalive, close deadline, shutdown deadline

    private func sweep() {
        let now = loop.nowMilliseconds
        let c = configuration
        var i = 0
        while i < connections.count {
            let connection = connections[i]
            i += 1
            switch connection.phase {
            case .head(_, let acceptedAt):
                // Counted from the accept: a trickle of bytes doesn't extend it.
                if now - acceptedAt >= c.headTimeoutMilliseconds {
                    logger.debug("request head timed out", metadata: ["conn": "\(connection.id)"])
                    connection.abort(.dropped)
                }
            case .webSocket(let webSocket):
                if connection.closeStartedAt != 0 {
                    let closing = ServerConnection.elapsed(since: connection.closeStartedAt, now: now)
                    if closing >= c.closeTimeoutMilliseconds {
                        connection.abort(.closed(code: nil))
                    }
                } else if webSocket.state == .open {
                    if connection.pingSentAt != 0 {
                        let waited = ServerConnection.elapsed(since: connection.pingSentAt, now: now)
                        if waited >= c.pongTimeoutMilliseconds {
                            logger.debug("keepalive timed out", metadata: ["conn": "\(connection.id)"])
                            connection.abort(.timedOut)
                        }
                    } else if ServerConnection.elapsed(since: connection.lastActivity, now: now)
                                >= c.pingIntervalMilliseconds {
                        connection.pingSentAt = ServerConnection.clock(now)
                        connection.sendPing()
                    }
                }
            case .deferred(let responder):
                if now - responder.startedAt >= deferredTimeoutMilliseconds {
                    logger.warning("deferred response timed out", metadata: ["conn": "\(connection.id)",
                                                                             "path": "\(responder.head.path)"])
                    responder.respond(status: 503, headers: [HTTPHeader(name: "Retry-After", value: "5")],
                                      body: Array("No answer in time\n".utf8))
                }
            case .done:
                break
            }
        }
        if isDraining && now >= shutdownDeadline {
            logger.warning("shutdown deadline reached", metadata: ["remaining": "\(connections.count)"])
            for connection in connections { connection.abort(.closed(code: nil)) }
        }
    }

    // MARK: Shutdown

    /// Graceful shutdown: stop accepting, send close 1001 to every WebSocket client, close the rest, wait for the
    /// close handshakes up to `shutdownDrainMilliseconds`, then close everything the server owns.
    /// The close code a graceful shutdown sends: 1001 (going away) by default; 1012 (service restart) when the rooms
    /// are kept in a store and clients should resume against the next process.
    public var shutdownCloseCode = WebSocketCloseCode.goingAway
    /// Asked by `/readyz`: a reason to answer 503 (the store failing), or nil.
    public var readinessProblem: (() -> String?)?

    public func beginShutdown() {
        guard !isDraining, !stopped else { return }
        isDraining = true
        shutdownDeadline = loop.nowMilliseconds + configuration.shutdownDrainMilliseconds
        for l in listeners { l.close() }
        listeners = []
        application?.serverWillShutDown()
        for connection in connections {
            connection.close(code: shutdownCloseCode, reason: "server shutting down")
        }
        logger.info("draining", metadata: ["connections": "\(connections.count)"])
        if connections.isEmpty { finishShutdown() }
    }

    private func finishShutdown() {
        guard !stopped else { return }
        stopped = true
        sweepTimer?.close()
        sweepTimer = nil
        lagProbe?.close()
        lagProbe = nil
        for w in signalWatchers { w.close() }
        signalWatchers = []
        closeOperationsListeners()
        logger.info("stopped")
        onStopped?()
    }
}
