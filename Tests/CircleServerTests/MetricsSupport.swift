import CircleRooms
import CircleServer
import Prometheus

extension ServerMetrics {
    /// The server's metrics in a registry of their own, exported by `/metrics`; with `rooms`, the rooms' metrics
    /// join the same registry.
    static func prometheus(rooms: RoomService? = nil) -> ServerMetrics {
        let registry = PrometheusCollectorRegistry()
        let factory = prometheusFactory(registry: registry, microsecondTimers: [RoomMetrics.eventLatencyLabel])
        rooms?.metrics = RoomMetrics(factory: factory)
        return ServerMetrics(factory: factory, exposition: { registry.emitToBuffer() })
    }
}
