import CircleTestSupport
import Foundation
import Testing

/// `circle load --spawn` end to end: the binary starts its own `circle serve` with the arguments the scenario needs,
/// plays the scenario against it and reports. A spawned server that refuses its arguments fails the whole run, which
/// in-process load tests (they build their server themselves) cannot see.
@Suite(.serialized) struct LoadSpawnProcessTests {
    /// Runs `circle load --spawn …` and returns its exit status and the JSON object on its last line.
    static func load(_ arguments: [String]) throws -> (status: Int32, report: [String: Any]) {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("circle-load-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try runProcess(CircleProcess.binary, ["load", "--spawn", "--quiet", "--out", out.path] + arguments)
        let last = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let report = (try? JSONSerialization.jsonObject(with: Data(last.utf8))) as? [String: Any] ?? [:]
        return (result.status, report)
    }

    @Test(arguments: ["fanout", "session"])
    func spawnedServerRunsTheScenario(scenario: String) throws {
        let (status, report) = try Self.load(["--scenario", scenario, "--rooms", "2", "--members", "3",
                                              "--ramp", "0.5", "--duration", "3", "--pace", "5"])  // busy in 3 s
        #expect(status == 0)
        #expect(report["connections"] as? Int == 8)
        #expect(report["error_total"] as? Int == 0)
        #expect((report["delivered_per_s"] as? Double ?? 0) > 0)
        #expect((report["server_peak_rss_kb"] as? Int ?? 0) > 0, "the spawned server was measured")
        let lag = report["server_loop_lag_p99_ms"] as? Double ?? -1
        #expect(lag > 0 && lag <= 1000, "the spawned server's loop lag was scraped from its /metrics")
    }
}
