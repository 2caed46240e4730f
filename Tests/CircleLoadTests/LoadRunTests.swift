import CircleJSON
import CircleLoad
import CircleLoop
import CircleRooms
import CircleServer
import Foundation
import Logging
import Testing

/// How many times longer runs and deadlines are: `CIRCLE_TEST_TIME_SCALE`, as in CircleTestSupport's `TestTime`.
private let timeScale = Double(ProcessInfo.processInfo.environment["CIRCLE_TEST_TIME_SCALE"] ?? "") ?? 1

/// A Circle server (rooms on) and the load runner on the same loop and thread, in process.
private final class Harness {
    let loop: EventLoop
    let server: Server
    let rooms: RoomService
    let port: Int
    static let secret = Array("load-test-secret-0123456789abcdef".utf8)

    init(tls: TLSSettings? = nil) throws {
        loop = try EventLoop()
        var config = ServerConfiguration()
        config.port = 0
        config.tls = tls
        var logger = Logger(label: "load-test")
        logger.logLevel = .critical
        server = Server(loop: loop, configuration: config, logger: logger)
        rooms = RoomService(server: server, configuration: RoomServiceConfiguration(secret: Self.secret))
        server.application = rooms
        try server.start()
        port = (tls == nil ? server.listening.first?.address : server.tlsAddresses.first)!.port
    }

    func configuration(_ scenario: LoadScenario) -> LoadConfiguration {
        var c = LoadConfiguration()
        c.port = port
        c.secret = Self.secret
        c.scenario = scenario
        c.rooms = 3
        c.members = 3
        // The scripted session keeps its shape but takes longer under the sanitizers (Scripts/test sets the scale;
        // this target reads it itself, as it does not depend on CircleTestSupport): drops and resumes are timed.
        c.rampSeconds = 0.3 * timeScale
        c.durationSeconds = 2 * timeScale
        c.churn = 0.34
        c.pace = 5  // a 2 s run needs busy members to see them act
        c.drainSeconds = 2 * timeScale
        c.progress = false
        return c
    }

    /// Runs a load to its end, then shuts the server down and checks the loop closes clean.
    func run(_ configuration: LoadConfiguration) -> LoadRunner {
        let runner = try! LoadRunner(loop: loop, configuration: configuration)
        runner.run()
        var stopped = false
        server.onStopped = { stopped = true }
        server.beginShutdown()
        let deadline = EventLoop.hrtime + UInt64(10_000_000_000 * timeScale)
        while !stopped && EventLoop.hrtime < deadline { loop.runOnce(wait: false) }
        while loop.aliveHandles > 0 && EventLoop.hrtime < deadline { loop.runOnce(wait: false) }
        #expect(stopped)
        #expect(loop.close() == 0, "handles left on the loop")
        return runner
    }
}

@Suite(.serialized) struct LoadRunTests {
    @Test func sessionScenarioRunsCleanAgainstARealServer() throws {
        let harness = try Harness()
        let config = harness.configuration(.session)
        let runner = harness.run(config)
        let m = runner.metrics
        #expect(runner.finished)
        #expect(m.errors.isEmpty, "errors: \(m.errors)")
        #expect(m.joined == config.clientCount)
        #expect(m.connectFailures == 0)
        #expect(m.resumes == config.rooms, "one churner per room resumes")
        #expect(m.latency.count > 0, "deliveries were measured")
        #expect(m.acks > 0)
        #expect(m.joinLatency.count == UInt64(config.clientCount))
        #expect(runner.closedBeforeDeadline, "the run ends once every client has closed, not at the drain deadline")
        #expect(runner.openSockets == 0, "every open counted was closed")
    }

    @Test func churnKeepsItsScheduleAtTheDefaultPace() throws {
        // At pace 1 a member may not act at all in a 2 s run; its drop and resume still come on time.
        let harness = try Harness()
        var config = harness.configuration(.session)
        config.pace = 1
        let runner = harness.run(config)
        #expect(runner.metrics.errors.isEmpty, "errors: \(runner.metrics.errors)")
        #expect(runner.metrics.resumes == config.rooms)
    }

    @Test func fanoutScenarioMeasuresEveryDeliveryToTheRoom() throws {
        let harness = try Harness()
        var config = harness.configuration(.fanout)
        config.fanoutRate = 5  // under the server's default message limit
        let runner = harness.run(config)
        let m = runner.metrics
        #expect(m.errors.isEmpty, "errors: \(m.errors)")
        #expect(m.joined == config.clientCount)
        // Every fanout message reaches the other members of its room: deliveries ≈ sends × members.
        let fanoutAcks = m.acks - UInt64(config.rooms)  // the end_session acks
        #expect(fanoutAcks > 0)
        #expect(m.latency.count == fanoutAcks * UInt64(config.members))
    }

    @Test func fanoutOverTLS() throws {
        // A throwaway self-signed certificate for 127.0.0.1, made with the openssl command line.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("circle-load-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cert = dir.appendingPathComponent("cert.pem").path, key = dir.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                             "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                             "-addext", "subjectAltName=IP:127.0.0.1"]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0)
        let harness = try Harness(tls: TLSSettings(certificateChainPath: cert, privateKeyPath: key))
        var config = harness.configuration(.fanout)
        config.fanoutRate = 5
        config.tls = true
        config.tlsCAPath = cert  // verified against the certificate itself
        let runner = harness.run(config)
        let m = runner.metrics
        #expect(m.errors.isEmpty, "errors: \(m.errors)")
        #expect(m.joined == config.clientCount)
        #expect(m.latency.count > 0)
        #expect(harness.server.tlsHandshakes >= config.clientCount)
    }

    @Test func reportIsOneJSONObjectWithTheDocumentedKeys() throws {
        let harness = try Harness()
        let runner = harness.run(harness.configuration(.session))
        let report = LoadReport(runner, server: ServerUsage(peakRSSKiB: 1234, cpuPercent: 12.5))
        #expect(!report.json.contains("\n"))
        let json = try JSON.parse(report.json)
        for key in ["connections", "connect_failures", "join_p99_ms", "sent_per_s", "delivered_per_s", "latency_p50_ms",
                    "latency_p90_ms", "latency_p99_ms", "latency_p999_ms", "latency_max_ms", "errors",
                    "server_peak_rss_kb", "server_cpu_pct"] {
            #expect(json[key] != nil, "missing \(key)")
        }
        #expect(json["connections"]?.intValue == 12)
        #expect(json["errors"]?.objectValue?.isEmpty == true)
        #expect(json["server_peak_rss_kb"]?.intValue == 1234)
        let p50 = json["latency_p50_ms"]?.doubleValue ?? -1, p99 = json["latency_p99_ms"]?.doubleValue ?? -1
        #expect(p50 > 0 && p50 <= p99)
        #expect(report.passes(maxErrors: 0))
        #expect(report.html.hasPrefix("<!doctype html>"))
        #expect(report.html.contains("<svg"))
        #expect(!report.html.contains("src=\"http"), "self-contained")
    }

    @Test func serverRefusingTokensCountsConnectFailuresByStatus() throws {
        let harness = try Harness()
        var config = harness.configuration(.session)
        config.secret = Array("another-secret-entirely-0123456789".utf8)
        config.durationSeconds = 1 * timeScale
        let runner = harness.run(config)
        #expect(runner.metrics.joined == 0)
        #expect(runner.metrics.connectFailures == config.clientCount)
        #expect(runner.metrics.errors == ["http_401": config.clientCount])
        #expect(!LoadReport(runner).passes(maxErrors: 0))
    }

    @Test func nothingListeningCountsConnectFailures() throws {
        let harness = try Harness()
        var config = harness.configuration(.session)
        config.port = 1  // nothing listens there
        config.durationSeconds = 1 * timeScale
        let runner = harness.run(config)
        #expect(runner.metrics.joined == 0)
        #expect(runner.metrics.errors["connect_failed"] == config.clientCount)
    }
}
