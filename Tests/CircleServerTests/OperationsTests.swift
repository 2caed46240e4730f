import CircleJSON
import CircleLoop
import CircleRooms
import CircleServer
import Foundation
import Testing

/// `/healthz`, `/readyz`, `/metrics` and the private metrics port.
@Suite struct OperationsTests {
    /// One HTTP GET (or `method`) on `port` (default: the public one); waits for the server to close.
    private func get(_ env: TestServer, _ path: String, port: Int? = nil, method: String = "GET") -> TestClient {
        let client = TestClient()
        client.connect(env, port: port, sending: Array("\(method) \(path) HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        env.run { client.tcpClosed }
        return client
    }

    private func body(_ client: TestClient) -> String {
        guard let range = client.rawResponseText.range(of: "\r\n\r\n") else { return "" }
        return String(client.rawResponseText[range.upperBound...])
    }

    /// The samples of a Prometheus text exposition: `name{labels}` → value.
    private func samples(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                continue
            }
            out[String(line[..<space])] = value
        }
        return out
    }

    private func metricsPortServer(_ configure: (inout ServerConfiguration) -> Void = { _ in }) throws -> TestServer {
        let env = try TestServer { config in
            config.metricsPort = 0
            configure(&config)
        }
        env.server.metrics = .prometheus()
        return env
    }

    @Test func readyzIs200WhileAccepting() throws {
        let env = try TestServer()
        let c = get(env, "/readyz")
        #expect(c.status == 200)
        #expect(body(c) == "ready\n")
        env.shutDown()
    }

    @Test func readyzRefusesOtherMethods() throws {
        let env = try TestServer()
        let c = get(env, "/readyz", method: "POST")
        #expect(c.status == 405)
        #expect(c.rawResponseText.contains("Allow: GET"))
        env.shutDown()
    }

    @Test func readyzIs503WhileDrainingAndHealthzStill200() throws {
        let env = try metricsPortServer { $0.shutdownDrainMilliseconds = 2000 }
        let opsPort = try #require(env.server.operationsAddresses.first?.port)
        // A client that never answers the close frame keeps the server draining.
        let stubborn = TestClient.webSocket(env)
        stubborn.answers = false
        #expect(stubborn.upgraded)
        env.server.beginShutdown()
        let ready = get(env, "/readyz", port: opsPort)
        #expect(ready.status == 503)
        #expect(body(ready) == "draining\n")
        #expect(get(env, "/healthz", port: opsPort).status == 200)
        #expect(get(env, "/metrics", port: opsPort).status == 200)
        #expect(!env.stopped)
        env.shutDown()
    }

    @Test func metricsIsNotServedWithoutMetrics() throws {
        let env = try TestServer()
        #expect(get(env, "/metrics").status == 404)
        env.shutDown()
    }

    @Test func metricsRefusesOtherMethods() throws {
        let env = try TestServer()
        env.server.metrics = .prometheus()
        #expect(get(env, "/metrics", method: "POST").status == 405)
        env.shutDown()
    }

    @Test func metricsPortServesOnlyOperationsAndTakesMetricsOffThePublicPort() throws {
        let env = try metricsPortServer()
        let opsPort = try #require(env.server.operationsAddresses.first?.port)
        #expect(opsPort != env.port)
        #expect(get(env, "/metrics").status == 404)
        let scraped = get(env, "/metrics", port: opsPort)
        #expect(scraped.status == 200)
        #expect(scraped.rawResponseText.contains("Content-Type: text/plain; version=0.0.4"))
        #expect(samples(body(scraped))["circle_connections"] == 1)  // the scrape itself
        #expect(get(env, "/readyz", port: opsPort).status == 200)
        #expect(get(env, "/readyz").status == 200)
        #expect(get(env, "/echo", port: opsPort).status == 404)
        #expect(get(env, "/rooms/r", port: opsPort).status == 404)
        #expect(get(env, "/metrics", port: opsPort, method: "DELETE").status == 405)
        env.shutDown()
    }

    @Test func metricsPortInUseFailsTheStartAndBindsNothing() throws {
        let first = try metricsPortServer()
        let taken = try #require(first.server.operationsAddresses.first?.port)
        #expect(throws: (any Error).self) {
            _ = try TestServer { $0.metricsPort = taken }
        }
        first.shutDown()
    }

    @Test func aSessionMovesTheMetrics() throws {
        let env = try roomServer()
        env.server.metrics = .prometheus(rooms: env.application as? RoomService)
        let facilitator = Participant(env, room: "r1", sub: "f", name: "Fay", role: .facilitator)
        let member = Participant(env, room: "r1", sub: "m", name: "Max", role: .member)
        _ = facilitator.waitFor(type: "welcome")
        _ = member.waitFor(type: "welcome")
        #expect(member.request("raise_hand")?["type"]?.stringValue == "ack")
        member.client.sendText("{\"type\":\"no_such_thing\"}")
        _ = member.waitFor(type: "error")
        member.client.sendText("{\"type\":\"leave\",\"extra\":1}")
        _ = member.waitFor(type: "error")

        let scraped = get(env, "/metrics")
        #expect(scraped.status == 200)
        let s = samples(body(scraped))
        #expect(s["circle_messages_in_total{type=\"raise_hand\"}"] == 1)
        #expect(s["circle_messages_in_total{type=\"other\"}"] == 2)
        #expect(s["circle_messages_in_total{type=\"signal\"}"] == 0)
        #expect(s["circle_messages_out_total{type=\"welcome\"}"] == 2)
        #expect(s["circle_messages_out_total{type=\"ack\"}"] == 1)
        // The member's join reached the facilitator; the raised hand reached both.
        #expect(s["circle_messages_out_total{type=\"participant_joined\"}"] ?? 0 >= 1)
        #expect(s["circle_messages_out_total{type=\"queue_changed\"}"] == 2)
        #expect(s["circle_errors_total{code=\"invalid\"}"] == 2)
        #expect(s["circle_rooms"] == 1)
        #expect(s["circle_participants"] == 2)
        #expect(s["circle_connections"] == 3)  // two participants and the scrape
        #expect(s["circle_event_latency_seconds_count"] == 1)
        #expect(s["circle_slow_consumer_closes_total"] == 0)
        #expect(s["circle_outbound_queue_bytes"] != nil)

        // Leaving (not just dropping, which keeps the seat for the grace period) empties and closes the room.
        _ = member.send([("type", .string("leave"))])
        _ = facilitator.send([("type", .string("leave"))])
        #expect(env.run { member.client.tcpClosed && facilitator.client.tcpClosed })
        let after = samples(body(get(env, "/metrics")))
        #expect(after["circle_rooms"] == 0)
        #expect(after["circle_participants"] == 0)
        env.shutDown()
    }

    @Test func aTurnThatHoldsTheLoopShowsAsLoopLag() throws {
        let env = try TestServer()
        env.server.metrics = .prometheus()
        env.run(milliseconds: 250)  // the probe fires every 100 ms
        let before = samples(body(get(env, "/metrics")))
        #expect((before["circle_loop_lag_seconds_count"] ?? 0) >= 1, "the probe records while metrics are kept")
        // Hold the loop for 250 ms inside one turn, as a flush of thousands of writes would: a probe comes due in
        // the first 100 ms of it and runs at least 150 ms late.
        let hold = LoopTimer(loop: env.loop)
        hold.start(afterMilliseconds: 1) {
            let until = EventLoop.hrtime + 250_000_000
            while EventLoop.hrtime < until {}
        }
        env.run(milliseconds: 300)
        hold.close()
        let after = samples(body(get(env, "/metrics")))
        let late =
            (after["circle_loop_lag_seconds_count"] ?? 0) - (after["circle_loop_lag_seconds_bucket{le=\"0.1\"}"] ?? 0)
        #expect(late >= 1, "a probe ran over 100 ms late: \(after.filter { $0.key.hasPrefix("circle_loop_lag") })")
        env.shutDown()
    }

    @Test func tlsHandshakesAndFailuresAreCounted() throws {
        let files = try TLSFiles.shared()
        let env = try TestServer.withTLS()
        env.server.metrics = .prometheus()
        let (good, _) = try TestClient.webSocketTLS(env, trusting: files.ca(.a))
        #expect(good.upgraded)
        let plain = TestClient()
        plain.connect(env, port: env.tlsPort, sending: Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        env.run { plain.tcpClosed }
        let s = samples(body(get(env, "/metrics")))
        #expect(s["circle_tls_handshakes_total"] == 1)
        #expect(s["circle_tls_handshake_failures_total"] == 1)
        env.shutDown()
    }

    /// Label values are the wire type names and nothing else: the lists match Docs/schema exactly.
    @Test func typeLabelsAreTheSchemaTypes() throws {
        var docs = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { docs.deleteLastPathComponent() }
        let names = try FileManager.default.contentsOfDirectory(
            atPath: docs.appendingPathComponent("Docs/schema").path)
        func types(_ prefix: String) -> Set<String> {
            Set(names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }
                .map { String($0.dropFirst(prefix.count).dropLast(".json".count)) })
        }
        let env = try roomServer()
        env.server.metrics = .prometheus(rooms: env.application as? RoomService)
        let text = body(get(env, "/metrics"))
        env.shutDown()
        func labels(_ metric: String) -> Set<String> {
            var out = Set<String>()
            for line in text.split(separator: "\n") where line.hasPrefix(metric + "{type=\"") {
                out.insert(String(line.dropFirst(metric.count + 7).prefix { $0 != "\"" }))
            }
            return out
        }
        #expect(labels("circle_messages_in_total") == types("client.").union(["other"]))
        #expect(labels("circle_messages_out_total") == types("server.").union(["other"]))
    }
}
