import CHiredis
import CircleLoop
import CircleStore

/// Settings of the Redis connection.
public struct RedisClientConfiguration: Sendable {
    /// The first reconnect delay; it doubles after each failed attempt up to `reconnectMaximumMilliseconds`.
    public var reconnectMinimumMilliseconds: UInt64 = 100
    public var reconnectMaximumMilliseconds: UInt64 = 2_000
    /// A connect that has not completed by then is dropped and retried.
    public var connectTimeoutMilliseconds: UInt64 = 2_000
    /// A command unanswered for this long drops the connection (a hung or paused Redis): health fails, retryable
    /// commands are sent again after the reconnect.
    public var replyTimeoutMilliseconds: UInt64 = 5_000

    public init() {}
}

/// An asynchronous Redis client on Circle's loop: hiredis' async context attached to the loop through its libuv
/// adapter, so replies arrive as loop callbacks and nothing blocks the loop thread. Use it from the loop thread only.
///
/// Commands issued in one loop turn leave together (hiredis buffers them and writes when the socket is writable).
/// While the connection is down, `retry` commands wait in order and are sent after the next connect (as are those
/// that were in flight when it dropped: they must be idempotent); the others fail at once with `.disconnected`.
public final class RedisClient {
    public let endpoint: RedisEndpoint
    private let loop: EventLoop
    private let configuration: RedisClientConfiguration
    private var context: UnsafeMutablePointer<redisAsyncContext>?
    /// Keeps the client alive while hiredis holds a pointer to it (from connect to the disconnect callback).
    private var selfRetain: Unmanaged<RedisClient>?
    private var connected = false
    /// Connected and answered a PING (not `-LOADING`): commands go out only then.
    private var ready = false
    private var probeTimer: LoopTimer?
    private var closing = false
    private var inFlight: [UInt64: Command] = [:]
    /// Retryable commands waiting for a connection, in order.
    private var backlog: [Command] = []
    private var nextID: UInt64 = 1
    private var scripts: [RedisScript] = []
    private var attempts = 0
    private var reconnectTimer: LoopTimer?
    private var connectTimer: LoopTimer?
    private let watchdog: LoopTimer
    /// The oldest command id that may still be in flight (replies come in order).
    private var oldestInFlight: UInt64 = 1
    private var timedOut = false
    /// When the watchdog last ran (`EventLoop.hrtime`), and its period.
    private var lastCheck: UInt64 = 0
    private let checkPeriod: UInt64
    /// Between the first command that got no reply and the disconnect callback, hiredis is failing the rest of
    /// the commands in flight: retryable commands sent meanwhile wait here, behind those, to keep the order.
    private var cascading = false
    private var sentDuringCascade: [Command] = []

    /// `ok` while connected and answered; `failing` before the first connect and while reconnecting.
    public private(set) var health: StoreHealth
    /// Called on the loop thread after each (re)connect, once the backlog has been sent.
    public var onConnect: (() -> Void)?
    /// Called on the loop thread when the connection drops (not after `close()`).
    public var onDisconnect: ((RedisError) -> Void)?
    /// Connections made so far (1 after the first connect).
    public private(set) var connects: UInt64 = 0

    private struct Command {
        var args: [[UInt8]]
        var retry: Bool
        var sentAt: UInt64 = 0
        var completion: (Result<RedisValue, RedisError>) -> Void
    }

    /// Creates the client and starts connecting (asynchronously; see `health`).
    public init(endpoint: RedisEndpoint, loop: EventLoop,
                configuration: RedisClientConfiguration = RedisClientConfiguration()) {
        self.endpoint = endpoint
        self.loop = loop
        self.configuration = configuration
        health = .failing(.io(path: endpoint.description, code: 0, message: "connecting"))
        watchdog = LoopTimer(loop: loop)
        watchdog.unref()
        let period = max(configuration.replyTimeoutMilliseconds / 4, 1)
        checkPeriod = period * 1_000_000
        watchdog.start(afterMilliseconds: period, repeatMilliseconds: period) { [weak self] in self?.checkReplies() }
        connect()
    }

    /// Whether the connection is up.
    public var isConnected: Bool { ready }

    /// Commands sent and not answered yet, plus those waiting for a connection.
    public var outstanding: Int { inFlight.count + backlog.count }

    /// Writes the commands issued so far to the socket now, not at the loop's next poll: for a write that must
    /// leave before what the loop sends next (a new seat's snapshot before its welcome).
    public func flushWrites() {
        guard ready, !closing, !cascading, let context else { return }
        redisAsyncHandleWrite(context)
    }

    /// Sends one command (binary-safe arguments). The completion runs on the loop thread with Redis' reply (an error
    /// reply is `.success(.error(...))`), or a `RedisError` when there was no reply.
    public func send(_ args: [[UInt8]], retry: Bool = false,
                     completion: @escaping (Result<RedisValue, RedisError>) -> Void) {
        let command = Command(args: args, retry: retry, completion: completion)
        if closing { return completion(.failure(.closed)) }
        if ready && !cascading {
            issue(command)
        } else if retry {
            if cascading { sentDuringCascade.append(command) } else { backlog.append(command) }
        } else {
            completion(.failure(.disconnected(lastError)))
        }
    }

    /// Sends a command given as text arguments.
    public func send(_ args: String..., retry: Bool = false,
                     completion: @escaping (Result<RedisValue, RedisError>) -> Void) {
        send(args.map { Array($0.utf8) }, retry: retry, completion: completion)
    }

    /// Registers a script: loaded now (when connected) and after every connect, so EVALSHA finds it.
    public func preload(_ script: RedisScript) {
        guard !scripts.contains(script) else { return }
        scripts.append(script)
        if ready { load(script) }
    }

    /// Runs `script` with EVALSHA, falling back to EVAL once when Redis no longer has it (SCRIPT FLUSH).
    public func evaluate(_ script: RedisScript, keys: [String], args: [[UInt8]], retry: Bool = false,
                         completion: @escaping (Result<RedisValue, RedisError>) -> Void) {
        let tail = [Array(String(keys.count).utf8)] + keys.map { Array($0.utf8) } + args
        send([Array("EVALSHA".utf8), Array(script.sha.utf8)] + tail, retry: retry) { [weak self] result in
            if case let .success(.error(message)) = result, message.hasPrefix("NOSCRIPT"), let self {
                self.send([Array("EVAL".utf8), Array(script.source.utf8)] + tail, retry: retry, completion: completion)
            } else {
                completion(result)
            }
        }
    }

    /// Stops: commands in flight still get their replies, then the connection closes; waiting commands fail with
    /// `.closed`. Run the loop until `isClosed` to let hiredis close its poll handle.
    public func close() {
        guard !closing else { return }
        closing = true
        reconnectTimer?.close()
        connectTimer?.close()
        probeTimer?.close()
        probeTimer = nil
        watchdog.close()
        reconnectTimer = nil
        connectTimer = nil
        let waiting = backlog + sentDuringCascade
        backlog = []
        sentDuringCascade = []
        for command in waiting { command.completion(.failure(.closed)) }
        guard let context else { return }
        if connected {
            redisAsyncDisconnect(context)  // waits for the replies in flight; may call didDisconnect at once
        } else {
            self.context = nil
            redisAsyncFree(context)
            selfRetain?.release()
            selfRetain = nil
        }
    }

    /// True once `close()` has finished with the connection.
    public var isClosed: Bool { closing && context == nil }

    // MARK: Connection

    private var lastError = "not connected"

    private func connect() {
        guard !closing, context == nil else { return }
        guard let ac = redisAsyncConnect(endpoint.host, endpoint.port) else {
            return failConnect("out of memory")
        }
        if ac.pointee.err != 0 {
            let message = ac.pointee.errstr.map { String(cString: $0) } ?? "connect failed"
            redisAsyncFree(ac)
            return failConnect(message)
        }
        ac.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        guard circle_redis_attach(ac, loop.rawLoopPointer) == REDIS_OK else {
            redisAsyncFree(ac)
            return failConnect("cannot attach to the loop")
        }
        redisAsyncSetConnectCallback(ac) { ac, status in
            RedisClient.owner(circle_redis_data(ac)).didConnect(status: status, ac: ac)
        }
        redisAsyncSetDisconnectCallback(ac) { ac, status in
            RedisClient.owner(circle_redis_data(ac)).didDisconnect(status: status, ac: ac)
        }
        context = ac
        selfRetain = Unmanaged.passRetained(self)
        let timer = connectTimer ?? LoopTimer(loop: loop)
        connectTimer = timer
        timer.unref()
        timer.start(afterMilliseconds: configuration.connectTimeoutMilliseconds) { [weak self] in
            self?.connectTimedOut()
        }
    }

    private static func owner(_ data: UnsafeMutableRawPointer?) -> RedisClient {
        Unmanaged<RedisClient>.fromOpaque(data!).takeUnretainedValue()
    }

    private func connectTimedOut() {
        guard !connected, let context else { return }
        self.context = nil
        redisAsyncFree(context)  // not connected: no callback runs
        let retained = selfRetain
        selfRetain = nil
        failConnect("connect timed out")
        retained?.release()
    }

    private func didConnect(status: Int32, ac: UnsafePointer<redisAsyncContext>?) {
        connectTimer?.stop()
        guard status == REDIS_OK, context != nil else {
            // hiredis frees the context after this callback.
            let message = ac?.pointee.errstr.map { String(cString: $0) } ?? "connect failed"
            self.context = nil
            let retained = selfRetain
            selfRetain = nil
            failConnect(message)
            retained?.release()
            return
        }
        connected = true
        connects += 1
        probe(connection: connects)
    }

    /// PINGs the new connection until Redis answers PONG: a paused Redis accepts connections but answers nothing (the
    /// reply timeout drops it), and one loading its AOF answers `-LOADING` (probed again every 100 ms).
    private func probe(connection: UInt64) {
        issue(Command(args: [Array("PING".utf8)], retry: false) { [weak self] result in
            guard let self, self.connects == connection, self.connected, !self.closing else { return }
            guard case .success(.status) = result else {
                let timer = self.probeTimer ?? LoopTimer(loop: self.loop)
                self.probeTimer = timer
                timer.start(afterMilliseconds: 100) { [weak self] in
                    guard let self, self.connects == connection, self.connected else { return }
                    self.probe(connection: connection)
                }
                return
            }
            self.becomeReady()
        })
    }

    private func becomeReady() {
        ready = true
        attempts = 0
        health = .ok
        if endpoint.database != 0 {
            issue(Command(args: [Array("SELECT".utf8), Array(String(endpoint.database).utf8)], retry: false) { _ in })
        }
        for script in scripts { load(script) }
        let waiting = backlog
        backlog = []
        for command in waiting { issue(command) }
        onConnect?()
    }

    private func didDisconnect(status: Int32, ac: UnsafePointer<redisAsyncContext>?) {
        // hiredis has already run every pending callback with no reply; it frees the context after this.
        var message = ac?.pointee.errstr.map { String(cString: $0) } ?? ""
        if timedOut { message = "no reply in \(configuration.replyTimeoutMilliseconds) ms" }
        timedOut = false
        context = nil
        connected = false
        ready = false
        cascading = false
        backlog += sentDuringCascade
        sentDuringCascade = []
        let retained = selfRetain
        selfRetain = nil
        defer { retained?.release() }
        guard !closing else { return }
        lastError = message.isEmpty ? "connection closed" : message
        health = .failing(.io(path: endpoint.description, code: 0, message: lastError))
        onDisconnect?(.disconnected(lastError))
        scheduleReconnect()
    }

    /// Drops a connection whose oldest command has waited past the reply timeout. Not when the watchdog itself ran
    /// late (the process was paused or starved): the replies may be waiting in the socket for the loop to read.
    private func checkReplies() {
        let now = EventLoop.hrtime
        defer { lastCheck = now }
        if lastCheck != 0 && now &- lastCheck > 2 * checkPeriod { return }
        while oldestInFlight < nextID && inFlight[oldestInFlight] == nil { oldestInFlight += 1 }
        guard connected, let context, let oldest = inFlight[oldestInFlight],
              now &- oldest.sentAt >= configuration.replyTimeoutMilliseconds * 1_000_000 else { return }
        timedOut = true
        lastError = "no reply in \(configuration.replyTimeoutMilliseconds) ms"
        redisAsyncFree(context)  // runs the pending callbacks with no reply, then didDisconnect
    }

    private func failConnect(_ message: String) {
        lastError = message
        health = .failing(.io(path: endpoint.description, code: 0, message: message))
        scheduleReconnect()
    }

    private func scheduleReconnect() {
        guard !closing else { return }
        let shift = min(attempts, 16)
        attempts += 1
        let delay = min(configuration.reconnectMaximumMilliseconds,
                        configuration.reconnectMinimumMilliseconds << shift)
        let timer = reconnectTimer ?? LoopTimer(loop: loop)
        reconnectTimer = timer
        timer.start(afterMilliseconds: delay) { [weak self] in self?.connect() }
    }

    private func load(_ script: RedisScript) {
        let args = [Array("SCRIPT".utf8), Array("LOAD".utf8), Array(script.source.utf8)]
        issue(Command(args: args, retry: false) { _ in })
    }

    // MARK: Commands

    private func issue(_ command: Command) {
        guard let context else { return lost(command) }
        let id = nextID
        nextID += 1
        var command = command
        command.sentAt = EventLoop.hrtime
        inFlight[id] = command
        let rc = RedisClient.withArgv(command.args) { argc, argv, lengths in
            redisAsyncCommandArgv(context, { ac, reply, privdata in
                let id = UInt64(UInt(bitPattern: privdata))
                RedisClient.owner(ac!.pointee.data).didReply(id: id, reply: reply)
            }, UnsafeMutableRawPointer(bitPattern: UInt(id)), argc, argv, lengths)
        }
        if rc != REDIS_OK, let command = inFlight.removeValue(forKey: id) { lost(command) }
    }

    private func didReply(id: UInt64, reply: UnsafeMutableRawPointer?) {
        guard let command = inFlight.removeValue(forKey: id) else { return }
        guard let reply else {
            cascading = true
            return lost(command)
        }
        command.completion(.success(RedisValue(reply.assumingMemoryBound(to: redisReply.self))))
    }

    /// A command that got no reply: retried after the next connect, or failed.
    private func lost(_ command: Command) {
        if closing {
            command.completion(.failure(.closed))
        } else if command.retry {
            backlog.append(command)
        } else {
            command.completion(.failure(.disconnected(lastError)))
        }
    }

    /// Lays the arguments out in one buffer for `redisAsyncCommandArgv` (which copies them before it returns).
    private static func withArgv(_ args: [[UInt8]],
                                 _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>,
                                          UnsafePointer<Int>) -> Int32) -> Int32 {
        let total = args.reduce(0) { $0 + $1.count }
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(total, 1), alignment: 1)
        let pointers = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(args.count, 1))
        let lengths = UnsafeMutablePointer<Int>.allocate(capacity: max(args.count, 1))
        defer {
            storage.deallocate()
            pointers.deallocate()
            lengths.deallocate()
        }
        var offset = 0
        for (i, arg) in args.enumerated() {
            arg.withUnsafeBytes { bytes in
                if let base = bytes.baseAddress { (storage + offset).copyMemory(from: base, byteCount: bytes.count) }
            }
            pointers[i] = UnsafePointer((storage + offset).assumingMemoryBound(to: CChar.self))
            lengths[i] = arg.count
            offset += arg.count
        }
        return body(Int32(args.count), pointers, lengths)
    }
}
