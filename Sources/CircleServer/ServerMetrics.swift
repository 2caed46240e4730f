import CoreMetrics
import Prometheus

/// The server's metrics, made once through swift-metrics and exported in the Prometheus text format. An application
/// on the server makes its own from the same factory (the rooms' are `RoomMetrics`), and `/metrics` exports all.
///
/// Gauges that describe the whole server (open connections, queued outbound bytes) are sampled when `/metrics` is
/// scraped.
public final class ServerMetrics {
    /// Open client connections (WebSocket or not yet upgraded).
    let connections: CoreMetrics.Gauge
    /// Outbound bytes queued on all connections, not yet taken by the kernel.
    let outboundQueueBytes: CoreMetrics.Gauge
    /// The most any single connection has queued.
    let outboundQueueMaxBytes: CoreMetrics.Gauge
    /// Connections closed because they stopped reading.
    let slowConsumerCloses: CoreMetrics.Counter
    /// TLS handshakes completed.
    let tlsHandshakes: CoreMetrics.Counter
    /// TLS handshakes that failed.
    let tlsHandshakeFailures: CoreMetrics.Counter
    /// How much later than due the loop ran a timer due every 100 ms: turns that hold the thread.
    let loopLag: CoreMetrics.Timer
    private let exposition: (() -> [UInt8])?

    /// Metrics made by `factory` (e.g. a `PrometheusMetricsFactory`, or `MetricsSystem.factory`). `exposition`
    /// renders `/metrics`; without it the server doesn't serve `/metrics` (another backend collects them).
    public init(factory: any MetricsFactory, exposition: (() -> [UInt8])? = nil) {
        self.exposition = exposition
        connections = CoreMetrics.Gauge(label: "circle_connections", factory: factory)
        outboundQueueBytes = CoreMetrics.Gauge(label: "circle_outbound_queue_bytes", factory: factory)
        outboundQueueMaxBytes = CoreMetrics.Gauge(label: "circle_outbound_queue_max_bytes", factory: factory)
        slowConsumerCloses = CoreMetrics.Counter(label: "circle_slow_consumer_closes_total", factory: factory)
        tlsHandshakes = CoreMetrics.Counter(label: "circle_tls_handshakes_total", factory: factory)
        tlsHandshakeFailures = CoreMetrics.Counter(label: "circle_tls_handshake_failures_total", factory: factory)
        loopLag = CoreMetrics.Timer(label: Self.loopLagLabel, factory: factory)
    }

    /// A Prometheus factory over `registry` with the buckets Circle's histograms need: the loop lag from 1 ms to
    /// 1 s, and each of `microsecondTimers` (such as an application's event latency) from 10 µs to 100 ms rather
    /// than the default 5 ms to 10 s.
    public static func prometheusFactory(registry: PrometheusCollectorRegistry,
                                         microsecondTimers: [String] = []) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        for label in microsecondTimers {
            factory.durationHistogramBuckets[label] = [
                .microseconds(10), .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250),
                .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10),
                .milliseconds(25), .milliseconds(100),
            ]
        }
        factory.durationHistogramBuckets[loopLagLabel] = [
            .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(1000),
        ]
        return factory
    }

    static let loopLagLabel = "circle_loop_lag_seconds"

    /// Whether `/metrics` can be served.
    public var isExported: Bool { exposition != nil }

    /// The Prometheus text exposition of every metric in the registry; nil without an exporter.
    public func render() -> [UInt8]? { exposition?() }
}
