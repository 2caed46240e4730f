import ArgumentParser
import CircleCrypto
import CircleAuth
import CircleLoad
import CircleLoop
import Glibc

struct Load: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load-test a Circle server with real group sessions (or --scenario fanout for throughput).",
        discussion: """
            Every client lives in this process, on one libuv loop: latency is measured from a command's send to each \
            recipient's event on one monotonic clock. Prints a line a second, a summary, and as its last line one \
            JSON object; writes loadtest-report.json and loadtest-report.html to --out. Exits 1 when errors exceed \
            --max-errors.
            """)

    @Option(name: .long, help: "Server address (IP literal). Only loopback unless you say otherwise.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "Server port (ignored with --spawn).")
    var port = 8080

    @Flag(name: .long, help: "Start a server from this binary on a free port, and stop it at the end.")
    var spawn = false

    @Option(name: .long, help: "An extra argument for the spawned `circle serve` (repeat).")
    var serverArg: [String] = []

    @Option(name: .long, help: "File holding the token secret (else CIRCLE_SECRET; with --spawn a random one).")
    var secretFile: String?

    @Option(name: .long, help: "session (real group sessions) or fanout (throughput).")
    var scenario = "session"

    @Option(name: .long, help: "Rooms, each with one facilitator.")
    var rooms = 10

    @Option(name: .long, help: "Members per room (besides the facilitator).")
    var members = 9

    @Option(name: .long, help: ArgumentHelp(
        "Seconds over which the clients join. Default: 500 joins a second (at least 5 s),"
            + " at most a third of --duration."))
    var ramp: Double?

    @Option(name: .long, help: "Seconds from the first join to the end of the sessions.")
    var duration = 30.0

    @Option(name: .long, help: "Fraction of members that drop and resume mid-session (session scenario).")
    var churn = 0.1

    @Option(name: .long, help: ArgumentHelp(
        "Session: how busy members are. 1: each acts every ~2.5 s, reacts every ~20 s, changes mic or camera every "
            + "~28 s; 5: five times as often (the stress pace)."))
    var pace = 1.0

    @Option(name: .long, help: "Messages per second each client may send in the session scenario.")
    var clientRate = 15.0

    @Option(name: .long, help: "Fanout: messages per second per client (0: as fast as the window allows).")
    var rate = 0.0

    @Option(name: .long, help: "Fanout: unacknowledged messages per client.")
    var window = 2

    @Option(name: .long, help: "Fanout: bytes per message.")
    var payload = 100

    @Option(name: .long, help: "Errors tolerated before the run fails.")
    var maxErrors = 0

    @Option(name: .long, help: "Directory for loadtest-report.json and loadtest-report.html.")
    var out = "loadtest-out"

    @Flag(name: .long, help: "Connect with TLS (wss://).")
    var tls = false

    @Option(name: .long,
            help: "With --tls: CA certificates (PEM) to verify the server against. Default: no verification.")
    var tlsCa: String?

    @Flag(name: .long, help: ArgumentHelp(
        "Restart mode: clients whose connection the server ends (1001, 1011, 1012, 1013, or none: a crash or reset)"
            + " reconnect with since and epoch, backing off, and the report times every resume."))
    var reconnect = false

    @Option(name: .long, help: "Restart mode: seconds after its close a client keeps trying before it counts as lost.")
    var reconnectDeadline = 30.0

    @Option(name: .long, help: ArgumentHelp(
        "Restart mode: the first retry waits d/2…d with d this many ms, doubling per failure up to"
            + " --reconnect-max-delay-ms."))
    var reconnectDelayMs = 100.0

    @Option(name: .long, help: "Restart mode: the longest wait between retries, ms.")
    var reconnectMaxDelayMs = 1000.0

    @Option(name: .long, help: ArgumentHelp(
        "Restart mode: time each resume from 'close' (its own close) or from the CLOCK_MONOTONIC nanoseconds in FILE,"
            + " read at the end (a restart script writes it when the new server listens).",
        valueName: "close|FILE"))
    var resumeReference = "close"

    @Flag(name: .long, help: "No progress line every second.")
    var quiet = false

    @Option(name: .long, help: ArgumentHelp(
        "Only write tokens for wsload to FILE and exit: one per line, id = room x (members + 1) + client, for room "
            + "'<token-room-prefix><room>' and sub 'c<client>' (benchmarks: ../shared/bench/wsload --token-file).",
        valueName: "FILE"))
    var writeTokens: String?

    @Option(name: .long, help: "Room id prefix for --write-tokens.")
    var tokenRoomPrefix = "b"

    func validate() throws {
        guard LoadScenario(rawValue: scenario) != nil else {
            throw ValidationError("--scenario must be session or fanout")
        }
        if tls && spawn {
            throw ValidationError("--tls works against a running server (circle serve --tls-cert …), not --spawn")
        }
        if spawn && host != "127.0.0.1" { throw ValidationError("--spawn serves on 127.0.0.1 only") }
    }

    func run() throws {
        EventLoop.ignoreSIGPIPE()
        raiseFileLimit()
        var config = LoadConfiguration()
        config.host = host
        config.port = port
        config.tls = tls
        config.tlsCAPath = tlsCa
        config.scenario = LoadScenario(rawValue: scenario)!
        config.rooms = rooms
        config.members = members
        config.rampSeconds = ramp ?? LoadConfiguration.defaultRamp(clients: rooms * (members + 1), duration: duration)
        config.durationSeconds = duration
        config.churn = churn
        config.pace = pace
        config.clientRate = clientRate
        config.clientBurst = max(1, clientRate * 2)
        config.fanoutRate = rate
        config.fanoutWindow = window
        config.fanoutPayloadBytes = payload
        config.reconnect = reconnect
        config.reconnectDeadlineSeconds = reconnectDeadline
        config.reconnectDelayMilliseconds = reconnectDelayMs
        config.reconnectMaxDelayMilliseconds = reconnectMaxDelayMs
        config.resumeReference = resumeReference == "close" ? .close : .file(resumeReference)
        if let secret = try Secret.load(file: secretFile) {
            config.secret = secret
        } else if spawn {
            config.secret = Array(Base64.encode(Crypto.randomBytes(24)).utf8)  // 32 characters
        } else {
            throw ValidationError("no secret: give --secret-file or set CIRCLE_SECRET (or use --spawn)")
        }
        if let writeTokens {
            try Self.writeTokens(writeTokens, rooms: rooms, perRoom: members + 1, prefix: tokenRoomPrefix,
                                 secret: config.secret, ttl: Int64(duration) + 3600)
            return
        }
        _ = mkdir(out, 0o755)

        var server: SpawnedServer?
        if spawn {
            var args = ["--log-level", "warning", "--max-rooms", "\(max(10_000, rooms))",
                        "--max-participants", "\(max(50, members + 1))"]
            // Fanout sends as fast as its window allows: lift the per-client rate limit to serve's ceiling.
            if config.scenario == .fanout { args += ["--message-rate", "10000"] }
            let s = try SpawnedServer(binary: Self.ownPath(), arguments: args + serverArg, secret: config.secret,
                                      logPath: out + "/server.log")
            guard s.waitUntilListening(seconds: 15) else {
                s.stop()
                throw ValidationError("the spawned server did not start; see \(out)/server.log")
            }
            config.port = s.port
            server = s
            Self.say("spawned circle serve (pid \(s.pid)) on 127.0.0.1:\(s.port)")
        }
        if let problem = config.validationError() { server?.stop(); throw ValidationError(problem) }

        let loop = try EventLoop()
        let runner = try LoadRunner(loop: loop, configuration: config)
        runner.serverRSS = { server?.rssKiB }
        let total = config.clientCount
        if !quiet {
            runner.onSecond = { s in
                var line = "[\(s.second)s] connected \(s.connected)/\(total)  sent \(s.sent)/s"
                line += "  received \(s.received)/s  measured \(s.delivered)/s"
                line += "  p99 \((s.latencyP99Milliseconds * 100).rounded() / 100) ms  errors \(s.errors)"
                if let rss = s.serverRSSKiB { line += "  server RSS \(rss / 1024) MiB" }
                Self.say(line)
            }
        }
        let interrupt = try SignalWatcher(loop: loop, signal: SIGINT) { _ in runner.stopEarly() }
        let terminate = try SignalWatcher(loop: loop, signal: SIGTERM) { _ in runner.stopEarly() }
        runner.run()
        interrupt.close()
        terminate.close()
        let usage = server?.usage()
        server?.stop()
        // Let the closes finish, then close the loop.
        for _ in 0..<100 where loop.aliveHandles > 0 { loop.runOnce(wait: false); usleep(1000) }
        loop.close()

        let report = LoadReport(runner, server: usage)
        write(report.json + "\n", to: out + "/loadtest-report.json")
        write(report.html, to: out + "/loadtest-report.html")
        Self.say(report.human)
        Self.say("reports: \(out)/loadtest-report.json, \(out)/loadtest-report.html")
        Self.say(report.json)
        if !report.passes(maxErrors: maxErrors) || runner.metrics.joined == 0 { throw ExitCode.failure }
    }

    private static func writeTokens(_ path: String, rooms: Int, perRoom: Int, prefix: String, secret: [UInt8],
                                    ttl: Int64) throws {
        guard let f = fopen(path, "w") else { throw ValidationError("cannot write \(path)") }
        defer { fclose(f) }
        let exp = Int64(time(nil)) + ttl
        for room in 0..<rooms {
            for client in 0..<perRoom {
                let claims = TokenClaims(sub: "c\(client)", name: "Client \(client)", room: "\(prefix)\(room)",
                                         role: .member, exp: exp)
                fputs(TokenMinter.mint(claims, secret: secret) + "\n", f)
            }
        }
    }

    /// Writes a line to standard output at once (unbuffered: a line a second even into a pipe or a file).
    private static func say(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            offset += n
        }
    }

    private func raiseFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    private static func ownPath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func write(_ text: String, to path: String) {
        guard let f = fopen(path, "w") else { print("cannot write \(path)"); return }
        fputs(text, f)
        fclose(f)
    }
}
