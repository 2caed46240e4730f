/// What a load run plays.
public enum LoadScenario: String, Sendable, CaseIterable {
    /// Real group sessions: phases, rounds, hands, paced turns, a silence, media toggles, reactions, WebRTC
    /// signaling between every pair of members, and churn with resume.
    case session
    /// Throughput: every client sends small `signal` messages to the whole room as fast as its window allows.
    case fanout
}

/// Everything `circle load` can be told. Defaults suit a quick run against a local server.
public struct LoadConfiguration: Sendable {
    /// The server's address (an IP literal). Only loopback unless the operator says otherwise.
    public var host = "127.0.0.1"
    /// The server's port.
    public var port = 8080
    /// Speak wss:// (TLS 1.2/1.3 through OpenSSL on the loop).
    public var tls = false
    /// With `tls`: a PEM file of CA certificates to verify the server against; nil skips verification.
    public var tlsCAPath: String?
    /// The HS256 secret the server checks tokens with.
    public var secret: [UInt8] = []
    /// What to play.
    public var scenario = LoadScenario.session
    /// Rooms, each with one facilitator…
    public var rooms = 10
    /// …and this many members.
    public var members = 9
    /// Seconds over which every client joins, evenly spread (facilitators first).
    public var rampSeconds = 5.0
    /// Seconds from the first join to the end of the sessions.
    public var durationSeconds = 30.0
    /// Fraction (0…1) of members that drop mid-session and resume with `since`.
    public var churn = 0.1
    /// Session: how busy members are. At 1 (the default) a member acts about every 2.5 s (hands, passes) and
    /// sends a reaction every ~20 s and a mic or camera change every ~28 s: a lively group with its session
    /// compressed into the run. Higher values multiply every member's activity (5: every 0.5 s, the stress pace).
    public var pace = 1.0
    /// Session: messages per second a client may send (a token bucket kept under the server's default limit).
    public var clientRate = 15.0
    /// Session: the client's burst.
    public var clientBurst = 30.0
    /// Fanout: messages per second per client; 0 sends as fast as the window allows.
    public var fanoutRate = 0.0
    /// Fanout: the most unacknowledged messages a client keeps in flight.
    public var fanoutWindow = 2
    /// Fanout: bytes of each WebSocket message sent.
    public var fanoutPayloadBytes = 100
    /// Session: bytes of an SDP offer or answer (WebRTC-sized: a few KiB).
    public var sdpBytes = 3000
    /// Session: ICE candidates each side sends after an offer/answer.
    public var iceCandidates = 4
    /// Seconds a client waits for its welcome before counting a join failure.
    public var joinTimeoutSeconds = 10.0
    /// Seconds allowed after the end for the last deliveries and closes.
    public var drainSeconds = 3.0
    /// A prefix for room ids, so that runs against one server do not meet.
    public var roomPrefix = "load"
    /// Print a progress line every second.
    public var progress = true
    /// Restart mode: a client whose connection the server ends (1001, 1011, 1012, 1013, or no close frame: a crash,
    /// a reset) reconnects with `since` and `epoch`, backing off while the server is down, and the run measures how
    /// long each took (``ResumeReport``). Off: such a close is an error.
    public var reconnect = false
    /// Restart mode: seconds after its close a client keeps trying; then it counts as lost.
    public var reconnectDeadlineSeconds = 30.0
    /// Restart mode: the first retry waits a random time in [d/2, d] with d this many milliseconds, doubling per
    /// failed attempt up to ``reconnectMaxDelayMilliseconds`` (the jitter of the browser client, Web/circle.js).
    public var reconnectDelayMilliseconds = 100.0
    public var reconnectMaxDelayMilliseconds = 1000.0
    /// Restart mode: what each resume is timed from.
    public var resumeReference = ResumeReference.close

    /// Defaults.
    public init() {}

    /// The ramp when none is given: 500 joins a second, as when a platform's groups all start on the hour (a
    /// thousand groups of ten in 20 s), at least 5 s and at most a third of the run.
    public static func defaultRamp(clients: Int, duration: Double) -> Double {
        min(max(5, Double(clients) / 500), duration / 3)
    }

    /// Every client the run opens.
    public var clientCount: Int { rooms * (members + 1) }

    /// What is wrong with these settings, if anything (checked before a run).
    public func validationError() -> String? {
        if rooms < 1 { return "--rooms must be at least 1" }
        if members < 1 { return "--members must be at least 1" }
        if !(0...1).contains(churn) { return "--churn must be between 0 and 1" }
        if rampSeconds < 0 || durationSeconds <= 0 { return "--ramp must be >= 0 and --duration > 0" }
        if rampSeconds >= durationSeconds { return "--ramp must be shorter than --duration" }
        if !(1...65535).contains(port) { return "--port must be 1…65535" }
        if secret.count < 16 { return "the secret must be at least 16 bytes" }
        if fanoutWindow < 1 { return "--window must be at least 1" }
        if fanoutPayloadBytes < 64 || fanoutPayloadBytes > 60_000 { return "--payload must be 64…60000 bytes" }
        if !(pace > 0 && pace <= 100) { return "--pace must be above 0 and at most 100" }
        if clientRate <= 0 || clientBurst < 1 { return "--client-rate must be positive" }
        if reconnectDeadlineSeconds <= 0 || reconnectDelayMilliseconds <= 0
            || reconnectMaxDelayMilliseconds < reconnectDelayMilliseconds {
            return "--reconnect-deadline and --reconnect-delay-ms must be positive, the delay at most its maximum"
        }
        return nil
    }
}

/// What a resume's time is measured from.
public enum ResumeReference: Sendable, Equatable {
    /// The moment the client's connection closed (a node killed behind a proxy: each client's own outage).
    case close
    /// An instant of `CLOCK_MONOTONIC` (`EventLoop.hrtime`, Python's `time.monotonic_ns()`) in nanoseconds, read
    /// from this file at the end of the run: a restart script writes it when the new server listens.
    case file(String)
}
