import CircleAuth
import CircleCrypto
import CircleJSON
import CircleRoom
import CircleTestSupport
import Foundation
import Testing

/// The real `circle serve` POSTs a group's session to a platform's endpoint, every request signed and checked there
/// with the Standard Webhooks library (Tests/webhooks/receiver.py).
@Suite struct WebhookProcessTests {
    @Test func aSessionReachesThePlatformSignedWithAttendanceAndNoNames() throws {
        let key = "whsec_" + Base64.encode(Array(repeating: UInt8(3), count: 32))
        let receiver = try WebhookReceiver(secret: key)
        defer { receiver.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("webhooks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let secret = folder.appendingPathComponent("secret"), keyFile = folder.appendingPathComponent("webhook.key")
        try Data(testSecret).write(to: secret)
        try Data((key + "\n").utf8).write(to: keyFile)
        let server = try CircleProcess(arguments: ["--secret-file", secret.path, "--webhook-url", receiver.url,
                                                   "--webhook-secret-file", keyFile.path])
        try #require(server.port > 0)
        func join(_ sub: String, _ name: String, _ role: Role) -> TestClient {
            let token = TokenMinter.mint(TokenClaims(sub: sub, name: name, room: "g-7", role: role,
                                                     exp: Int64(time(nil)) + 600, iat: Int64(time(nil))),
                                         secret: testSecret)
            let client = TestClient.webSocket(server, path: "/rooms/g-7?access_token=\(token)")
            server.run { client.texts.contains { $0.contains(#""seq""#) } || client.tcpClosed }
            return client
        }
        let f = join("f-1", "Dr Secret Name", .facilitator)
        let m = join("m-1", "Member Secret Name", .member)
        m.sendText(#"{"type":"leave","id":"l1"}"#)
        server.run { f.texts.contains { $0.contains(#""participant_left""#) } }
        f.sendText(#"{"type":"end_session","id":"e1"}"#)
        server.run { f.tcpClosed }
        try waitUntil { ((try? receiver.requests().count) ?? 0) >= 5 }
        let requests = try receiver.requests()
        #expect(requests.allSatisfy { $0.status == 204 && $0.refusal == nil })
        let bodies = try requests.map { try JSON.parse(Array($0.body.utf8)) }
        let types = bodies.map { $0["type"]?.stringValue ?? "" }
        #expect(types.first == "session_opened" && types.last == "session_ended")
        #expect(types.filter { $0 == "participant_joined" }.count == 2)
        #expect(types.filter { $0 == "participant_left" }.count == 1)
        #expect(bodies.allSatisfy { $0["data"]?["group"]?.stringValue == "g-7" && $0["data"]?["session"]?.intValue == 1 })
        let attendance = try #require(bodies.last?["data"]?["attendance"]?.arrayValue)
        #expect(Set(attendance.compactMap { $0["participant"]?.stringValue }) == ["f-1", "m-1"])
        #expect(requests.allSatisfy { !$0.body.contains("Secret Name") })
        #expect(Set(requests.compactMap(\.id)).count == requests.count)
        kill(server.process.processIdentifier, SIGTERM)
        #expect(server.waitForExit(seconds: 10) == 0)
        #expect(!server.log().contains("Secret Name"))
    }
}
