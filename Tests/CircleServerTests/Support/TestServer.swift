import CircleLoop
import CircleServer
import CircleTestSupport
import Logging
import Testing

/// A loop that test clients run on, and the port of the server they talk to.
protocol ServerDriver: LoopDriver {
    var port: Int { get }
}

/// A server on its own loop and a free port, for one test. Clients run on the same loop and thread.
final class TestServer: ServerDriver {
    let loop: EventLoop
    let server: Server
    let port: Int
    let logs: CapturedLog
    var stopped = false
    private(set) var application: HTTPApplication?

    init(_ configure: (inout ServerConfiguration) -> Void = { _ in },
         application makeApplication: (Server) -> HTTPApplication? = { _ in nil }) throws {
        var config = ServerConfiguration()
        config.port = 0
        config.conformanceEcho = true
        configure(&config)
        loop = try EventLoop()
        let logs = CapturedLog()
        self.logs = logs
        var logger = Logger(label: "test") { label in
            var h = CircleLogHandler(label: label, format: .text, sink: logs)
            h.logLevel = .trace
            return h
        }
        logger.logLevel = .trace
        server = Server(loop: loop, configuration: config, logger: logger)
        do {
            port = try server.start()[0].port
        } catch {
            _ = loop.close()  // the listeners it closed finish closing; nothing else holds the loop
            throw error
        }
        server.onStopped = { [unowned self] in self.stopped = true }
        if let app = makeApplication(server) {
            application = app
            server.application = app
        }
    }

    /// Graceful shutdown, then checks that the loop closes with no handle left.
    func shutDown(sourceLocation: SourceLocation = #_sourceLocation) {
        server.beginShutdown()
        #expect(run(timeoutMilliseconds: 10_000) { stopped }, "server did not stop", sourceLocation: sourceLocation)
        // Clients see the server's FIN and close too; only the run loop's own tick timer may remain.
        #expect(run(timeoutMilliseconds: 5000) { loop.aliveHandles <= 1 }, "client handles still open",
                sourceLocation: sourceLocation)
        #expect(loop.close() == 0, "handles left on the loop", sourceLocation: sourceLocation)
    }
}
