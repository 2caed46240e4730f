import CircleRoom
import CoreMetrics
import Prometheus

/// The server's metrics, made once through swift-metrics and exported in the Prometheus text format.
///
/// Every metric handle is created up front: the per-type message counters and the per-code error counters are
/// looked up by their (static) wire name, so the hot path builds no strings and allocates nothing. Label values
/// come only from fixed lists — wire type names and error codes — never from client input; a name outside the
/// lists is counted under `other`.
///
/// Gauges that describe the whole server (open connections, queued outbound bytes) are sampled when `/metrics`
/// is scraped; rooms and connected participants are recorded by the room service as they change.
public final class ServerMetrics {
    /// Open client connections (WebSocket or not yet upgraded).
    let connections: CoreMetrics.Gauge
    /// Outbound bytes queued on all connections, not yet taken by the kernel.
    let outboundQueueBytes: CoreMetrics.Gauge
    /// The most any single connection has queued.
    let outboundQueueMaxBytes: CoreMetrics.Gauge
    /// Rooms open on this server.
    let rooms: CoreMetrics.Gauge
    /// Room WebSockets open (participants connected).
    let participants: CoreMetrics.Gauge
    /// Connections closed because they stopped reading.
    let slowConsumerCloses: CoreMetrics.Counter
    /// Connections closed with 1008 for flooding past the rate limit.
    let floodCloses: CoreMetrics.Counter
    /// Refused joins that were counted but not logged (the log line is throttled).
    let refusalsNotLogged: CoreMetrics.Counter
    /// TLS handshakes completed.
    let tlsHandshakes: CoreMetrics.Counter
    /// TLS handshakes that failed.
    let tlsHandshakeFailures: CoreMetrics.Counter
    /// Time from receiving a command to its effects (broadcasts) being queued.
    let eventLatency: CoreMetrics.Timer
    /// How much later than due the loop ran a timer due every 100 ms: turns that hold the thread.
    let loopLag: CoreMetrics.Timer
    private let messagesIn: [String: CoreMetrics.Counter]
    private let messagesInOther: CoreMetrics.Counter
    private let messagesOut: [String: CoreMetrics.Counter]
    private let messagesOutOther: CoreMetrics.Counter
    private let errors: [String: CoreMetrics.Counter]
    /// The counters last looked up, by type: traffic runs in streaks of one type (a room relaying `signal`s), and
    /// comparing a type name with the last one (usually the same literal) is cheaper than hashing it.
    private var lastIn = LastCounter()
    private var lastOut = LastCounter()
    private let exposition: (() -> [UInt8])?

    /// Metrics made by `factory` (e.g. a `PrometheusMetricsFactory`, or `MetricsSystem.factory`). `exposition`
    /// renders `/metrics`; without it the server doesn't serve `/metrics` (another backend collects them).
    public init(factory: any MetricsFactory, exposition: (() -> [UInt8])? = nil) {
        self.exposition = exposition
        connections = CoreMetrics.Gauge(label: "circle_connections", factory: factory)
        outboundQueueBytes = CoreMetrics.Gauge(label: "circle_outbound_queue_bytes", factory: factory)
        outboundQueueMaxBytes = CoreMetrics.Gauge(label: "circle_outbound_queue_max_bytes", factory: factory)
        rooms = CoreMetrics.Gauge(label: "circle_rooms", factory: factory)
        participants = CoreMetrics.Gauge(label: "circle_participants", factory: factory)
        slowConsumerCloses = CoreMetrics.Counter(label: "circle_slow_consumer_closes_total", factory: factory)
        floodCloses = CoreMetrics.Counter(label: "circle_flood_closes_total", factory: factory)
        refusalsNotLogged = CoreMetrics.Counter(label: "circle_join_refusals_unlogged_total", factory: factory)
        tlsHandshakes = CoreMetrics.Counter(label: "circle_tls_handshakes_total", factory: factory)
        tlsHandshakeFailures = CoreMetrics.Counter(label: "circle_tls_handshake_failures_total", factory: factory)
        eventLatency = CoreMetrics.Timer(label: Self.eventLatencyLabel, factory: factory)
        loopLag = CoreMetrics.Timer(label: Self.loopLagLabel, factory: factory)
        func counters(_ label: String, _ key: String, _ values: [String]) -> [String: CoreMetrics.Counter] {
            Dictionary(uniqueKeysWithValues: values.map { ($0, CoreMetrics.Counter(label: label, dimensions: [(key, $0)], factory: factory)) })
        }
        messagesIn = counters("circle_messages_in_total", "type", MetricNames.commandTypes)
        messagesInOther = CoreMetrics.Counter(label: "circle_messages_in_total", dimensions: [("type", "other")], factory: factory)
        messagesOut = counters("circle_messages_out_total", "type", MetricNames.outboundTypes)
        messagesOutOther = CoreMetrics.Counter(label: "circle_messages_out_total", dimensions: [("type", "other")], factory: factory)
        errors = counters("circle_errors_total", "code", ErrorCode.allCases.map(\.wireName))
    }

    /// Metrics in a registry of their own, exported by `/metrics`. Pass `registry` to share one (the one
    /// `MetricsSystem` was bootstrapped with, so that libraries' metrics show too).
    public static func prometheus(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) -> ServerMetrics {
        ServerMetrics(factory: prometheusFactory(registry: registry), exposition: { registry.emitToBuffer() })
    }

    /// A Prometheus factory over `registry` with the buckets Circle's histograms need (event latency is
    /// microseconds to milliseconds, not the default 5 ms to 10 s).
    public static func prometheusFactory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[eventLatencyLabel] = [
            .microseconds(10), .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250),
            .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(100),
        ]
        factory.durationHistogramBuckets[loopLagLabel] = [
            .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(1000),
        ]
        return factory
    }

    static let eventLatencyLabel = "circle_event_latency_seconds"
    static let loopLagLabel = "circle_loop_lag_seconds"

    /// Whether `/metrics` can be served.
    public var isExported: Bool { exposition != nil }

    /// The Prometheus text exposition of every metric in the registry; nil without an exporter.
    public func render() -> [UInt8]? { exposition?() }

    // MARK: Hot path

    /// One client message of `type` (a command's wire name) received.
    @inline(__always)
    func received(_ type: String) {
        lastIn.counter(for: type, in: messagesIn, other: messagesInOther).increment()
    }

    /// One client message that is not a known command (undecodable, or binary).
    @inline(__always)
    func receivedUnknown() {
        messagesInOther.increment()
    }

    /// One message delivered to `recipients` connections (a broadcast counts once per recipient).
    @inline(__always)
    func sent(_ message: Outbound, recipients: Int) {
        lastOut.counter(for: message.wireName, in: messagesOut, other: messagesOutOther).increment(by: recipients)
        if case .error(_, let code, _) = message { errors[code.wireName]?.increment(by: recipients) }
    }
}

/// The fixed label values: every wire type name (Docs/schema), and nothing else.
enum MetricNames {
    /// Client message types (`client.*.json`).
    static let commandTypes = [
        "advance_round", "clear_queue", "end_session", "end_silence", "end_turn", "give_floor", "leave", "lock",
        "lower_hand", "media", "move_in_queue", "mute", "mute_all_but_speaker", "pass", "private_word", "promote",
        "raise_hand", "reaction", "remove", "remove_from_queue", "request_stats", "set_pacing", "set_phase",
        "set_queue_policy", "signal", "start_silence", "unlock", "unmute",
    ]
    /// Server message types (`server.*.json`).
    static let outboundTypes = [
        "ack", "connection_changed", "error", "floor_given", "lock_changed", "media_changed", "mute_changed",
        "mute_request", "pacing_changed", "participant_joined", "participant_left", "phase_changed", "private_word",
        "queue_changed", "reaction", "role_changed", "round_changed", "session_ended", "signal", "stats",
        "turn_ended", "turn_nudge", "turn_time_up", "welcome",
    ]
}

/// The counter of the type looked up last, kept beside its type name (see `ServerMetrics.lastIn`).
private struct LastCounter {
    private var type: String?
    private var counter: CoreMetrics.Counter?

    /// The counter for `type` from `table` (`other` when the type has none), remembered for the next call.
    @inline(__always)
    mutating func counter(for type: String, in table: [String: CoreMetrics.Counter],
                          other: CoreMetrics.Counter) -> CoreMetrics.Counter {
        if let counter, self.type == type { return counter }
        let found = table[type] ?? other
        (self.type, counter) = (type, found)
        return found
    }
}
