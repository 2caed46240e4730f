import ArgumentParser
import CircleLoop
import CircleServer
import Glibc
import Logging

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server until SIGINT or SIGTERM.")

    @Option(name: .long, help: "Address to listen on (IPv4 or IPv6 literal). Repeat for several.")
    var host: [String] = []

    @Option(name: .long, help: "TCP port (0 picks a free one; the bound port is logged).")
    var port: Int = 8080

    @Flag(name: .long, help: "Also serve /echo, which echoes every message (conformance and benchmark runs only).")
    var conformanceEcho = false

    @Option(name: .long, help: "Log format: text or json.")
    var logFormat: String = "text"

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(name: .long, help: "Allowed WebSocket Origin (repeat for several). Default: any.")
    var allowOrigin: [String] = []

    @Option(name: .long, help: "File holding the token secret (else the CIRCLE_SECRET environment variable).")
    var secretFile: String?

    @Option(name: .long, help: "Seconds a dropped participant keeps their seat (reconnecting).")
    var graceSeconds: Int = 30

    @Option(name: .long, help: "Participants per room.")
    var maxParticipants: Int = 50

    @Option(name: .long, help: "Rooms this server holds at most.")
    var maxRooms: Int = 10_000

    @Option(name: .long, help: "Messages per second per connection (sustained; bursts of twice that).")
    var messageRate: Int = 20

    @Option(name: .long, help: "Seconds a graceful shutdown waits for clients to close.")
    var drainSeconds: Double = 5

    @Option(name: .long, help: "TLS certificate chain (PEM, leaf first). With --tls-key, serves TLS; SIGHUP reloads.")
    var tlsCert: String?

    @Option(name: .long, help: "TLS private key (PEM, unencrypted).")
    var tlsKey: String?

    @Option(name: .long, help: "Serve TLS on this port and plain TCP on --port. Without it, --port serves TLS only.")
    var tlsPort: Int?

    @Option(name: .long, help: "Folder of the web client served at / (default: ./Web when it exists).")
    var webRoot: String?

    func validate() throws {
        guard LogFormat(rawValue: logFormat) != nil else { throw ValidationError("--log-format must be text or json") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535") }
        guard graceSeconds >= 0, maxParticipants > 0, maxRooms > 0, messageRate > 0 else {
            throw ValidationError("--grace-seconds, --max-participants, --max-rooms and --message-rate must be positive")
        }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        if let tlsPort {
            guard tlsCert != nil else { throw ValidationError("--tls-port needs --tls-cert and --tls-key") }
            guard (0...65535).contains(tlsPort) else { throw ValidationError("--tls-port must be 0…65535") }
        }
    }

    func run() throws {
        let format = LogFormat(rawValue: logFormat)!
        let level = Logger.Level(rawValue: logLevel)!
        LoggingSystem.bootstrap { label in
            var handler = CircleLogHandler(label: label, format: format)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "circle")
        var config = ServerConfiguration()
        if !host.isEmpty { config.hosts = host }
        config.port = port
        config.conformanceEcho = conformanceEcho
        config.allowedOrigins = allowOrigin.isEmpty ? nil : Set(allowOrigin)
        config.shutdownDrainMilliseconds = UInt64(max(0, drainSeconds) * 1000)
        if let tlsCert, let tlsKey {
            config.tls = TLSSettings(certificateChainPath: tlsCert, privateKeyPath: tlsKey)
            config.tlsPort = tlsPort
        }
        config.webRoot = webRoot ?? (isDirectory("Web") ? "Web" : nil)

        let secret = try Secret.load(file: secretFile)
        let loop = try EventLoop()
        let server = Server(loop: loop, configuration: config, logger: logger)
        if let root = config.webRoot {
            guard server.staticFiles != nil else { throw ExitCode.failure }
            logger.info("serving the web client", metadata: ["root": "\(root)"])
        }
        var rooms: RoomService?
        if let secret {
            var roomConfig = RoomServiceConfiguration(secret: secret)
            roomConfig.room.grace = .seconds(graceSeconds)
            roomConfig.room.maxParticipants = maxParticipants
            roomConfig.maxRooms = maxRooms
            roomConfig.messagesPerSecond = messageRate
            roomConfig.messageBurst = messageRate * 2
            rooms = RoomService(server: server, configuration: roomConfig)
            server.application = rooms
        } else {
            logger.warning("no secret configured (--secret-file or CIRCLE_SECRET): /rooms is disabled")
        }
        do {
            try server.start()
            try server.installSignalHandlers()
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
        loop.run()
        withExtendedLifetime(rooms) {}
        let rc = loop.close()
        if rc != 0 { logger.error("loop closed with handles left", metadata: ["rc": "\(rc)"]) }
    }
}

private func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}
