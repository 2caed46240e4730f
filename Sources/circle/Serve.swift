import ArgumentParser
import CircleLoop
import CircleRooms
import CircleServer
import CircleWebhooks
import Glibc
import Logging
import Metrics
import Prometheus

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the server until SIGINT or SIGTERM.",
        discussion: """
            Every option can also come from a CIRCLE_* environment variable (CIRCLE_PORT, CIRCLE_TLS_CERT, …) or a \
            config file (--config or CIRCLE_CONFIG; `port = 8443` lines). Precedence: flags, then environment, then \
            file, then defaults. The secret comes from secret_file or CIRCLE_SECRET only. See Docs/OPERATIONS.md.
            """)

    @Option(name: .long, help: "Config file of `name = value` lines (else CIRCLE_CONFIG).")
    var config: String?

    @Flag(name: .long, help: "Validate the configuration (TLS files and secret included), print it, and exit.")
    var checkConfig = false

    @Option(name: .long, help: "Address to listen on (IPv4 or IPv6 literal). Repeat for several. Default: 127.0.0.1.")
    var host: [String] = []

    @Option(name: .long, help: "TCP port (0 picks a free one; the bound port is logged). Default: 8080.")
    var port: Int?

    @Flag(name: .long, inversion: .prefixedNo,
          help: "Also serve /echo, which echoes every message (conformance and benchmark runs only). Default: false.")
    var conformanceEcho: Bool?

    @Option(name: .long, help: "Log format: text or json. Default: text.")
    var logFormat: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical. Default: info.")
    var logLevel: String?

    @Option(name: .long, help: "Allowed WebSocket Origin (repeat for several). Default: any.")
    var allowOrigin: [String] = []

    @Option(name: .long, help: "File holding the token secret (else the CIRCLE_SECRET environment variable).")
    var secretFile: String?

    @Option(name: .long, help: "Seconds a dropped participant keeps their seat (reconnecting). Default: 30.")
    var graceSeconds: Int?

    @Option(name: .long, help: "Participants per room. Default: 50.")
    var maxParticipants: Int?

    @Option(name: .long, help: "Rooms this server holds at most. Default: 10000.")
    var maxRooms: Int?

    @Option(name: .long,
            help: "Client connections at most (also bounded by the file-descriptor limit). Default: 100000.")
    var maxConnections: Int?

    @Option(name: .long, help: "Messages per second per connection (sustained; bursts of twice that). Default: 20.")
    var messageRate: Int?

    @Option(name: .long,
            help: "Longest a token may live, in seconds (its exp at most this far ahead). Default: 86400.")
    var maxTokenTtl: Int?

    @Option(name: .long, help: "Largest WebSocket message a room client may send, in KiB (16…128; default 128).")
    var maxMessageKib: Int?

    @Option(name: .long, help: "Who opens a group's session by joining: facilitators or anyone. Default: facilitators.")
    var sessionOpeners: String?

    @Option(name: .long, help: "POST session and attendance webhooks here (http:// or https://).")
    var webhookUrl: String?

    @Option(name: .long, help: "Webhook signing key file: whsec_ and base64, 24 bytes or more (Standard Webhooks).")
    var webhookSecretFile: String?

    @Option(name: .long, help: "Seconds a graceful shutdown waits for clients to close. Default: 5.")
    var drainSeconds: Double?

    @Option(name: .long, help: "TLS certificate chain (PEM, leaf first). With --tls-key, serves TLS; SIGHUP reloads.")
    var tlsCert: String?

    @Option(name: .long, help: "TLS private key (PEM, unencrypted).")
    var tlsKey: String?

    @Option(name: .long, help: "Serve TLS on this port and plain TCP on --port. Without it, --port serves TLS only.")
    var tlsPort: Int?

    @Option(name: .long, help: "Serve /metrics, /healthz and /readyz on this private port (and /metrics only there).")
    var metricsPort: Int?

    @Option(name: .long, help: "Address for --metrics-port (repeat for several). Default: 127.0.0.1.")
    var metricsHost: [String] = []

    @Option(name: .long, help: "Folder of the web client served at / (default: ./Web when it exists).")
    var webRoot: String?

    @Option(name: .long,
            help: "Directory of the store (SQLite: rooms and records), or none. Default: circle-data (here).")
    var dataDir: String?

    @Option(name: .long, help: "Days records are kept (1…36500). Default: 365.")
    var recordsDays: Int?

    @Option(name: .long, help: "Keep records in PostgreSQL: postgres://USER@HOST:PORT/DB. Default: in --data-dir.")
    var records: String?

    @Option(name: .long, help: "File holding the operator secret (32+ bytes) that may erase a person's records.")
    var operatorSecretFile: String?

    @Option(name: .long, help: "Room state and ownership in Redis (redis://HOST:PORT): one node of several.")
    var redis: String?

    @Option(name: .long, help: "With --redis: HOST:PORT where the other nodes reach this one.")
    var nodeAddress: String?

    @Option(name: .long, help: "With --redis: milliseconds a room's lease lives without renewal. Default: 10000.")
    var leaseMs: Int?

    /// The flags given on the command line, as the highest settings layer.
    var flagLayer: SettingsLayer {
        var layer = SettingsLayer()
        func set(_ name: String, _ value: (some CustomStringConvertible)?) {
            if let value { layer.set(name, [value.description], origin: "--" + name) }
        }
        func set(_ name: String, _ values: [String]) {
            if !values.isEmpty { layer.set(name, values, origin: "--" + name) }
        }
        set("host", host)
        set("port", port)
        set("conformance-echo", conformanceEcho)
        set("log-format", logFormat)
        set("log-level", logLevel)
        set("allow-origin", allowOrigin)
        set("secret-file", secretFile)
        set("grace-seconds", graceSeconds)
        set("max-participants", maxParticipants)
        set("max-rooms", maxRooms)
        set("max-connections", maxConnections)
        set("message-rate", messageRate)
        set("max-token-ttl", maxTokenTtl)
        set("max-message-kib", maxMessageKib)
        set("session-openers", sessionOpeners)
        set("webhook-url", webhookUrl)
        set("webhook-secret-file", webhookSecretFile)
        set("drain-seconds", drainSeconds)
        set("tls-cert", tlsCert)
        set("tls-key", tlsKey)
        set("tls-port", tlsPort)
        set("metrics-port", metricsPort)
        set("metrics-host", metricsHost)
        set("web-root", webRoot)
        set("data-dir", dataDir)
        set("records-days", recordsDays)
        set("records", records)
        set("operator-secret-file", operatorSecretFile)
        set("redis", redis)
        set("node-address", nodeAddress)
        set("lease-ms", leaseMs)
        return layer
    }

    /// Flags over `CIRCLE_*` over the config file over defaults.
    func resolveSettings() throws -> ServeSettings {
        let environment = Environment.current
        var file = SettingsLayer()
        if let path = config ?? environment["CIRCLE_CONFIG"] {
            guard let bytes = Secret.readFile(path) else { throw ValidationError("cannot read config file \(path)") }
            file = try SettingsLayer.file(String(decoding: bytes, as: UTF8.self), path: path)
        }
        return try ServeSettings.resolve(flags: flagLayer, environment: SettingsLayer.environment(environment),
                                         file: file)
    }

    func run() throws {
        let settings: ServeSettings
        let secret: [UInt8]?
        do {
            settings = try resolveSettings()
            secret = try Secret.load(settings.secret)
        } catch {
            printError("circle: \(error)")
            throw ExitCode.failure
        }
        if checkConfig { return try check(settings, secret: secret) }

        LoggingSystem.bootstrap { label in
            var handler = CircleLogHandler(label: label, format: settings.logFormat)
            handler.logLevel = settings.logLevel
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        let factory = ServerMetrics.prometheusFactory(registry: registry,
                                                      microsecondTimers: [RoomMetrics.eventLatencyLabel])
        MetricsSystem.bootstrap(factory)
        let logger = Logger(label: "circle")
        let webhooks = try startWebhooks(settings, logger: logger)
        let loop = try EventLoop()
        var configuration = settings.serverConfiguration
        if configuration.webRoot == nil && isDirectory("Web") { configuration.webRoot = "Web" }
        let server = Server(loop: loop, configuration: configuration, logger: logger)
        server.metrics = ServerMetrics(factory: factory, exposition: { registry.emitToBuffer() })
        if let root = configuration.webRoot {
            guard server.staticFiles != nil else { throw ExitCode.failure }
            logger.info("serving the web client", metadata: ["root": "\(root)"])
        }
        var rooms: RoomService?
        if let secret {
            let service = RoomService(server: server, configuration: settings.roomServiceConfiguration(secret: secret))
            service.metrics = RoomMetrics(factory: factory)
            service.webhooks = webhooks
            server.application = service
            rooms = service
        } else {
            logger.warning("no secret configured (--secret-file or CIRCLE_SECRET): /rooms is disabled")
        }
        // Records (/groups/{id}/attendance, erasure, retention) over the store in --data-dir.
        let records: ServeRecords?
        do {
            records = try ServeRecords.open(settings, tokenSecret: secret, server: server)
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
        rooms?.records = records?.store
        if settings.redis != nil && settings.nodeAddress == nil {
            logger.critical("cannot start: redis needs node_address HOST:PORT (--node-address)")
            throw ExitCode.failure
        }
        if let rooms, settings.redis != nil {
            server.shutdownCloseCode = 1012  // Service Restart: clients resume on another node
            server.readinessProblem = { [unowned rooms] in rooms.readinessProblem }
        } else if let rooms, let records {
            // Rooms survive a restart and a crash in the same store (RoomService+Store.swift).
            do {
                try rooms.useStore(records.store) { records.store.waitIdle() }
            } catch {
                logger.critical("cannot start: store", metadata: ["error": "\(error)"])
                throw ExitCode.failure
            }
            server.shutdownCloseCode = 1012  // Service Restart: clients resume against the next process
            server.readinessProblem = { [unowned rooms] in rooms.readinessProblem }
        }
        var routes: HTTPApplications?  // the server holds its application weakly
        if let records {
            let routed: [HTTPApplication?] = [rooms, records.service]
            routes = HTTPApplications(routed.compactMap { $0 })
            server.application = routes
        }
        do {
            try server.start()
            try server.installSignalHandlers()
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
        var cluster: ServeCluster?
        if let rooms, let redis = settings.redis, let nodeAddress = settings.nodeAddress {
            // Several nodes: rooms live in Redis, hosted where their lease is (ServeCluster.swift). After the
            // listeners are bound, so that a node address with port 0 names the port bound.
            do {
                cluster = try ServeCluster.start(url: redis, nodeAddress: nodeAddress,
                                                 leaseMilliseconds: UInt64(settings.leaseMilliseconds),
                                                 records: records?.store,
                                                 rooms: rooms, server: server)
            } catch {
                logger.critical("cannot start", metadata: ["error": "\(error)"])
                throw ExitCode.failure
            }
        }
        loop.run()
        withExtendedLifetime(rooms) {}
        withExtendedLifetime(routes) {}
        withExtendedLifetime(cluster) {}
        webhooks?.stop(drainingFor: settings.drainSeconds)
        records?.close()
        let rc = loop.close()
        if rc != 0 { logger.error("loop closed with handles left", metadata: ["rc": "\(rc)"]) }
    }

    /// The webhook sender `--webhook-url` asks for, started; nil without one. A missing or malformed key stops here.
    private func startWebhooks(_ settings: ServeSettings, logger: Logger) throws -> WebhookSender? {
        guard let url = settings.webhookURL else { return nil }
        let key = try webhookKey(settings)
        let counter = { (outcome: String) in
            Counter(label: "circle_webhooks_total", dimensions: [("outcome", outcome)])
        }
        let delivered = counter("delivered"), retried = counter("retried"), failed = counter("failed"),
            dropped = counter("dropped")
        let sender = WebhookSender(WebhookSender.Configuration(url: url, key: key)) { outcome in
            switch outcome {
            case .delivered: delivered.increment()
            case .retrying(let kind, let attempts, let reason):
                retried.increment()
                logger.warning("webhook retrying", metadata: ["type": "\(kind.rawValue)", "attempts": "\(attempts)",
                                                             "reason": "\(reason)"])
            case .failed(let kind, let attempts, let reason):
                failed.increment()
                logger.error("webhook not delivered", metadata: ["type": "\(kind.rawValue)",
                                                                 "attempts": "\(attempts)", "reason": "\(reason)"])
            case .dropped(let kind):
                dropped.increment()
                logger.error("webhook dropped, queue full", metadata: ["type": "\(kind.rawValue)"])
            }
        }
        sender.start()
        logger.info("webhooks on")
        return sender
    }

    private func webhookKey(_ settings: ServeSettings) throws -> WebhookSigningKey {
        guard let path = settings.webhookSecretFile else {
            printError("circle: webhook_url needs webhook_secret_file (whsec_ and base64)")
            throw ExitCode.failure
        }
        guard let bytes = Secret.readFile(path),
              let key = WebhookSigningKey(text: String(decoding: bytes, as: UTF8.self))
        else {
            printError("circle: \(path): not a webhook key (whsec_ and base64 of 24 bytes or more)")
            throw ExitCode.failure
        }
        return key
    }

    /// `--check-config`: everything `serve` would load, loaded (the TLS files too), but nothing bound.
    private func check(_ settings: ServeSettings, secret: [UInt8]?) throws {
        if let tls = settings.serverConfiguration.tls {
            do {
                try Server.checkTLS(tls)
            } catch {
                printError("circle: TLS: \(error)")
                throw ExitCode.failure
            }
        }
        if settings.webhookURL != nil { _ = try webhookKey(settings) }
        do {
            _ = try ServeRecords.operatorCredential(settings)
        } catch {
            printError("circle: \(error)")
            throw ExitCode.failure
        }
        print(settings.described, terminator: "")
        print("configuration ok")
    }

    private func printError(_ message: String) {
        var line = Array((message + "\n").utf8)
        _ = line.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }
}

/// The process environment as a dictionary.
enum Environment {
    static var current: [String: String] {
        var out: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { out[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return out
    }
}

private func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}
