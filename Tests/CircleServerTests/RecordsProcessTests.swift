import CircleLoop
import CircleTestSupport
import Foundation
import Testing

/// `circle serve --data-dir` as a real process: the records routes are wired, retention runs at start, a short
/// operator secret refuses the start, and SIGTERM still exits 0 with the store open.
@Suite(.serialized) struct RecordsProcessTests {
    private func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "circle-records-process-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private func body(_ c: TestClient) -> String {
        guard let range = c.rawResponseText.range(of: "\r\n\r\n") else { return "" }
        return String(c.rawResponseText[range.upperBound...])
    }

    @Test func recordsAreServedOverTheDataDirectory() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let secret = String(repeating: "s", count: 44)
        try (secret + "\n").write(toFile: dir + "/operator.secret", atomically: true, encoding: .utf8)
        try "process-test-secret-0123456789\n".write(toFile: dir + "/token.secret", atomically: true, encoding: .utf8)
        let server = try CircleProcess(arguments: [
            "--data-dir", dir + "/data", "--operator-secret-file", dir + "/operator.secret",
            "--secret-file", dir + "/token.secret", "--records-days", "30",
        ])
        try #require(server.port > 0, "no port in the log: \(server.startupLog)")
        let erase = TestClient.raw(server, Array(("DELETE /groups/g/participants/m-1 HTTP/1.1\r\nHost: x\r\n"
                                                  + "Authorization: Bearer \(secret)\r\n\r\n").utf8))
        let anonymous = TestClient.raw(server, Array("GET /groups/g/attendance HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(server.run { erase.tcpClosed && anonymous.tcpClosed })
        #expect(erase.status == 200 && body(erase) == "{\"erased\":0}")
        #expect(anonymous.status == 401)
        #expect(FileManager.default.fileExists(atPath: dir + "/data/circle.db"))
        kill(server.process.processIdentifier, SIGTERM)
        #expect(server.waitForExit(seconds: 10) == 0)
        let log = server.log()
        #expect(log.contains("records kept"))
        #expect(log.contains("records retention") && log.contains("days=30"))
        #expect(log.contains("records erased group=g participant_hmac="))
        #expect(!log.contains(secret) && !log.contains("m-1"))
    }

    @Test func aShortOperatorSecretRefusesTheStart() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "too-short\n".write(toFile: dir + "/operator.secret", atomically: true, encoding: .utf8)
        let server = try CircleProcess(arguments: [
            "--data-dir", dir + "/data", "--operator-secret-file", dir + "/operator.secret",
        ])
        #expect(server.waitForExit(seconds: 10) == 1)
        #expect(server.log().contains("must hold at least 32 bytes"))
    }
}
