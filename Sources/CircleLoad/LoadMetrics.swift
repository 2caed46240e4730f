/// One second of a run, for the timeline.
public struct LoadSample: Sendable, Equatable {
    /// Seconds since the run started.
    public var second: Int
    /// Clients with an open, joined WebSocket at the end of the second.
    public var connected: Int
    /// Messages sent during the second.
    public var sent: UInt64
    /// Measured deliveries (events whose cause was recognised) during the second.
    public var delivered: UInt64
    /// Every message received during the second.
    public var received: UInt64
    /// Errors during the second.
    public var errors: UInt64
    /// The 99th percentile of the latencies measured during the second, ms.
    public var latencyP99Milliseconds: Double = 0
    /// The server's resident memory in KiB at the end of the second, when known.
    public var serverRSSKiB: Int?
}

/// Counters of one run. Everything happens on the loop thread: plain stored properties, no locks.
public struct LoadMetrics: Sendable {
    /// Connection attempts (first joins and resumes).
    public var connectAttempts = 0
    /// Clients that got their first `welcome`.
    public var joined = 0
    /// Connection attempts that did not end in a `welcome`.
    public var connectFailures = 0
    /// Resumes that got a `welcome` with `resumed: true`.
    public var resumes = 0
    /// Facilitator steps done again because a room came back from a crash without them (its last ~100 ms).
    public var stepsRedone = 0
    /// Messages sent (all kinds).
    public var sent: UInt64 = 0
    /// Messages received (all kinds).
    public var received: UInt64 = 0
    /// Deliveries whose send time is known: each recipient of each measured event counts once.
    public var delivered: UInt64 = 0
    /// `ack`s received.
    public var acks: UInt64 = 0
    /// Errors by code: the server's `error` codes and the client's own (`connect_failed`, `http_401`, `seq_gap`…).
    public var errors: [String: Int] = [:]
    /// Refusals that a live group meets too, by code (not errors): a command racing its target's drop
    /// (`reconnecting`), a `give_floor` racing the queue emptying (`not_found`).
    public var races: [String: Int] = [:]
    /// Send → each recipient's event.
    public var latency = LatencyHistogram()
    /// The same, for the current second only (reset every second, for the timeline).
    public var latencyThisSecond = LatencyHistogram()
    /// WebSocket open → `welcome`, for first joins.
    public var joinLatency = LatencyHistogram()
    /// Command → its `ack`.
    public var ackLatency = LatencyHistogram()
    /// One sample per second.
    public var timeline: [LoadSample] = []
    /// Restart mode: the outages and their resumes.
    public var outages = OutageMetrics()

    /// Defaults.
    public init() {}

    /// All errors.
    public var errorCount: Int { errors.values.reduce(0, +) }

    /// Counts one error of `code`.
    public mutating func error(_ code: String) { errors[code, default: 0] += 1 }
}
