import CircleTestSupport
import Foundation
import Testing

/// Configuration through the real binary: precedence, `--check-config`, and a config file that changes what is served.
@Suite(.serialized) struct ConfigProcessTests {
    /// Runs `circle serve --check-config …` with `environment` added; returns its exit status, stdout and stderr.
    private func checkConfig(
        _ arguments: [String], environment: [String: String] = [:]
    ) throws -> (Int32, String, String) {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CIRCLE_") }
        env.merge(environment) { $1 }
        let result = try runProcess(CircleProcess.binary, ["serve", "--check-config"] + arguments, environment: env)
        return (result.status, result.stdout, result.stderr)
    }

    private func tempFile(_ contents: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("circle-\(UUID().uuidString).conf")
            .path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func precedenceFlagsOverEnvironmentOverFileOverDefaults() throws {
        let config = try tempFile("port = 1111\ngrace_seconds = 7\nmax_rooms = 3\n")
        defer { unlink(config) }
        let (status, out, err) = try checkConfig(["--config", config, "--port", "3333"],
                                                 environment: ["CIRCLE_PORT": "2222", "CIRCLE_GRACE_SECONDS": "8"])
        #expect(status == 0, "\(err)")
        #expect(out.contains("port = 3333  # --port\n"))
        #expect(out.contains("grace_seconds = 8  # CIRCLE_GRACE_SECONDS\n"))
        #expect(out.contains("max_rooms = 3  # \(config):3\n"))
        #expect(out.contains("message_rate = 20  # default\n"))
        #expect(out.hasSuffix("configuration ok\n"))
    }

    @Test func aNodesClusterSettingsComeFromTheEnvironmentToo() throws {
        let (status, out, err) = try checkConfig([], environment: [
            "CIRCLE_REDIS": "redis://127.0.0.1:6379", "CIRCLE_NODE_ADDRESS": "10.0.0.5:8080", "CIRCLE_LEASE_MS": "5000",
        ])
        #expect(status == 0, "\(err)")
        #expect(out.contains("redis = redis://127.0.0.1:6379  # CIRCLE_REDIS\n"))
        #expect(out.contains("node_address = 10.0.0.5:8080  # CIRCLE_NODE_ADDRESS\n"))
        #expect(out.contains("lease_ms = 5000  # CIRCLE_LEASE_MS\n"))
    }

    @Test func checkConfigReadsTheSecretAndNeverPrintsIt() throws {
        let secret = "a secret of more than sixteen bytes"
        let (status, out, _) = try checkConfig([], environment: ["CIRCLE_SECRET": secret])
        #expect(status == 0)
        #expect(out.contains("# secret: from CIRCLE_SECRET"))
        #expect(!out.contains(secret))
    }

    @Test(arguments: [
        (["--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"], [String: String](),
         "circle: TLS: cannot load certificate chain from '/nonexistent/cert.pem'"),
        (["--secret-file", "/nonexistent/secret"], [:], "circle: cannot read --secret-file /nonexistent/secret"),
        ([], ["CIRCLE_SECRET": "short"], "circle: the secret must be at least 16 bytes"),
        (
            [], ["CIRCLE_CONFIG": "/nonexistent/circle.conf"],
            "circle: cannot read config file /nonexistent/circle.conf"
        ),
        ([], ["CIRCLE_MAX_ROOMS": "lots"], "circle: CIRCLE_MAX_ROOMS: max_rooms: must be an integer"),
        (["--tls-port", "8443"], [:], "circle: tls_port needs tls_cert and tls_key"),
        ([], ["CIRCLE_NODE_ADDRESS": "10.0.0.5"], "circle: CIRCLE_NODE_ADDRESS: node_address: must be HOST:PORT"),
        (["--redis", "http://127.0.0.1:6379"], [:], "circle: --redis: redis: must be a redis://HOST:PORT URL"),
    ])
    func checkConfigFailsWithAClearMessage(arguments: [String], environment: [String: String], message: String) throws
    {
        let (status, out, err) = try checkConfig(arguments, environment: environment)
        #expect(status == 1)
        #expect(err.hasPrefix(message), "\(err)")
        #expect(!out.contains("configuration ok"))
    }

    @Test func aSecretInTheConfigFileIsRefused() throws {
        let config = try tempFile("# secrets don't go here\nsecret = hunter2hunter2hunter2hunter2\n")
        defer { unlink(config) }
        let (status, _, err) = try checkConfig(["--config", config])
        #expect(status == 1)
        #expect(err.contains("\(config):2: a secret may not be written in the config file"))
        #expect(!err.contains("hunter2"))
    }

    @Test func aConfigFileFromTheEnvironmentChangesWhatIsServed() throws {
        let config = try tempFile("conformance_echo = true\nmetrics_port = 0\n")
        defer { unlink(config) }
        let server = try CircleProcess(arguments: [], shellPrefix: "CIRCLE_CONFIG='\(config)'")
        try #require(server.port > 0)
        let line = try #require(server.startupLog.split(separator: "\n").first { $0.contains("metrics listener") })
        let range = try #require(line.range(of: "address=127.0.0.1:"))
        let metricsPort = try #require(Int(line[range.upperBound...].prefix { $0.isNumber }))

        let echo = TestClient.webSocket(server)
        #expect(echo.upgraded)
        let scrape = TestClient()
        scrape.connect(server, port: metricsPort, sending: Array("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(server.run { scrape.tcpClosed })
        #expect(scrape.status == 200)
        #expect(scrape.rawResponseText.contains("\ncircle_connections "))
        let publicScrape = TestClient.raw(server, Array("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(server.run { publicScrape.tcpClosed })
        #expect(publicScrape.status == 404)

        kill(server.process.processIdentifier, SIGTERM)
        #expect(server.run { echo.tcpClosed })
        #expect(server.waitForExit(seconds: 10) == 0)
    }
}
