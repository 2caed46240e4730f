import CircleHTTP
import CircleLoop

/// What operators and load balancers ask: `/healthz` (alive), `/readyz` (accepting), `/metrics` (Prometheus).
extension Server {
    /// The bound addresses of the private metrics listener (`ServerConfiguration.metricsPort`); empty without one.
    public var operationsAddresses: [SocketAddress] { operationsListeners.map(\.address) }

    /// Binds `metricsPort` on every `metricsHosts` address. On failure, closes what it opened and throws.
    func startOperationsListeners() throws(LoopError) {
        guard var port = configuration.metricsPort else { return }
        do throws(LoopError) {
            for host in configuration.metricsHosts {
                let listener = try TCPListener(loop: loop, host: host, port: port)
                port = listener.port
                listener.onConnection = { [unowned self] in self.accept($0, tls: false, operations: true) }
                operationsListeners.append(listener)
                logger.info("metrics listener", metadata: ["address": "\(listener.address)"])
            }
        } catch {
            closeOperationsListeners()
            throw error
        }
    }

    func closeOperationsListeners() {
        for l in operationsListeners { l.close() }
        operationsListeners = []
    }

    /// Answers `/healthz`, `/readyz` and `/metrics` (public `/metrics` only without a metrics port), 404 otherwise.
    /// `/readyz` is 200 while accepting; 503 from the start of a graceful shutdown, and while `readinessProblem`
    /// gives a reason (the store failing).
    func routeOperations(_ head: HTTPRequestHead, connection: ServerConnection) {
        let servesMetrics = metrics?.isExported == true
            && (connection.isOperations || configuration.metricsPort == nil)
        switch head.path {
        case "/healthz":
            guard head.method == "GET" else { return operationsMethodNotAllowed(connection) }
            respondText(200, "ok\n", to: connection)
        case "/readyz":
            guard head.method == "GET" else { return operationsMethodNotAllowed(connection) }
            if isDraining {
                respondText(503, "draining\n", to: connection)
            } else if let problem = readinessProblem?() {
                respondText(503, problem + "\n", to: connection)
            } else {
                respondText(200, "ready\n", to: connection)
            }
        case "/metrics" where servesMetrics:
            guard head.method == "GET" else { return operationsMethodNotAllowed(connection) }
            sampleMetrics()
            let body = metrics?.render() ?? []
            connection.respond(HTTPResponse.make(status: 200, headers: [
                HTTPHeader(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8"),
                HTTPHeader(name: "Connection", value: "close"),
            ], body: body))
        default:
            connection.respond(HTTPResponse.error(HTTPError(status: 404, reason: "Not Found")))
        }
    }

    /// Records the gauges that describe the whole server: open connections and queued outbound bytes.
    func sampleMetrics() {
        guard let metrics else { return }
        var total = 0
        var most = 0
        for connection in connections {
            let queued = connection.tcp.queuedBytes
            total += queued
            most = max(most, queued)
        }
        metrics.connections.record(connections.count)
        metrics.outboundQueueBytes.record(total)
        metrics.outboundQueueMaxBytes.record(most)
    }

    private func respondText(_ status: Int, _ text: String, to connection: ServerConnection) {
        connection.respond(HTTPResponse.make(status: status, headers: [
            HTTPHeader(name: "Content-Type", value: "text/plain; charset=utf-8"),
            HTTPHeader(name: "Connection", value: "close"),
        ], body: Array(text.utf8)))
    }

    private func operationsMethodNotAllowed(_ connection: ServerConnection) {
        connection.respond(HTTPResponse.error(HTTPError(status: 405, reason: "Method Not Allowed"),
                                              extraHeaders: [HTTPHeader(name: "Allow", value: "GET")]))
    }
}
