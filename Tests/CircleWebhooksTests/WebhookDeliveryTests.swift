import CircleCrypto
import CircleJSON
import CircleTestSupport
@testable import CircleWebhooks
import Foundation
import Testing

/// Webhooks delivered by a real sender thread with libcurl to a real HTTP receiver in Python that checks every
/// signature with the Standard Webhooks library (Tests/webhooks/receiver.py).
@Suite("Webhook delivery")
struct WebhookDeliveryTests {
    static let secret = "whsec_" + Base64.encode(Array(repeating: UInt8(7), count: 32))
    static let otherSecret = "whsec_" + Base64.encode(Array(repeating: UInt8(9), count: 32))

    @Test func eachEventArrivesOnceSignedWithItsBody() throws {
        let receiver = try WebhookReceiver(secret: Self.secret)
        defer { receiver.stop() }
        let sender = WebhookSender(try Self.configuration(receiver.url))
        sender.start()
        let events = [
            WebhookEvent(.sessionOpened, group: "g-1", session: 3, atUnixMilliseconds: 1_000),
            WebhookEvent(.participantJoined, group: "g-1", session: 3, atUnixMilliseconds: 2_000) { w in
                w.key("participant"); w.string("p-1")
            },
            WebhookEvent(.sessionEnded, group: "g-1", session: 3, atUnixMilliseconds: 3_000),
        ]
        for e in events { #expect(sender.send(e)) }
        try waitUntil { sender.counts.delivered == 3 }
        sender.stop(drainingFor: 1)
        let log = try receiver.requests()
        #expect(log.count == 3)
        #expect(log.allSatisfy { $0.status == 204 && $0.refusal == nil && $0.contentType == "application/json" })
        #expect(log.map(\.id) == events.map(\.id))
        #expect(log.map(\.body) == events.map { String(decoding: $0.body, as: UTF8.self) })
        let joined = try JSON.parse(Array(log[1].body.utf8))
        #expect(joined["type"]?.stringValue == "participant_joined")
        #expect(joined["data"]?["participant"]?.stringValue == "p-1")
        #expect(joined["data"]?["session"]?.intValue == 3)
        #expect(sender.counts == .init(delivered: 3, retried: 0, failed: 0, dropped: 0, waiting: 0))
    }

    @Test func aFailingReceiverGetsTheSameEventAgainUntilItTakesIt() throws {
        let receiver = try WebhookReceiver(secret: Self.secret, failFirst: 2)
        defer { receiver.stop() }
        let sender = WebhookSender(try Self.configuration(receiver.url, firstDelay: 0.05))
        sender.start()
        let event = WebhookEvent(.participantLeft, group: "g-2", session: 1, atUnixMilliseconds: 5)
        sender.send(event)
        try waitUntil { sender.counts.delivered == 1 }
        sender.stop(drainingFor: 1)
        let log = try receiver.requests()
        #expect(log.map(\.status) == [503, 503, 204])
        #expect(Set(log.map(\.id)) == [event.id])
        #expect(sender.counts.retried == 2)
    }

    @Test func aReceiverWithAnotherKeyRefusesEveryAttemptAndTheSenderGivesUp() throws {
        let receiver = try WebhookReceiver(secret: Self.otherSecret)
        defer { receiver.stop() }
        var configuration = try Self.configuration(receiver.url, firstDelay: 0.02)
        configuration.retry.maxAttempts = 3
        let sender = WebhookSender(configuration)
        sender.start()
        sender.send(WebhookEvent(.sessionOpened, group: "g-3", session: 1, atUnixMilliseconds: 5))
        try waitUntil { sender.counts.failed == 1 }
        sender.stop(drainingFor: 1)
        let log = try receiver.requests()
        #expect(log.count == 3)
        #expect(log.allSatisfy { $0.status == 401 && $0.refusal == "No matching signature found" })
        #expect(sender.counts == .init(delivered: 0, retried: 2, failed: 1, dropped: 0, waiting: 0))
    }

    @Test func theReceiverRefusesAStaleTimestampAndTakesAFreshOne() throws {
        let key = try #require(WebhookSigningKey(text: Self.secret))
        let body = Array(#"{"type":"session_opened"}"#.utf8)
        let now = Int(Date().timeIntervalSince1970)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("webhook-body-\(getpid())")
        try Data(body).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        func verify(_ timestamp: Int) throws -> ProcessOutput {
            try runProcess(["python3", WebhookReceiver.script, "verify", "--secret", Self.secret, "--id", "msg_1",
                            "--timestamp", String(timestamp), "--body-file", file.path,
                            "--signature", key.signature(id: "msg_1", timestamp: timestamp, body: body)])
        }
        #expect(try verify(now).status == 0)
        let stale = try verify(now - 600)
        #expect(stale.status == 1)
        #expect(stale.stdout.contains("too old"))
    }

    @Test func aFullQueueRefusesTheNewEventAndCountsIt() throws {
        var configuration = try Self.configuration("http://127.0.0.1:9/")
        configuration.capacity = 2
        let sender = WebhookSender(configuration)  // not started: nothing leaves
        let e = WebhookEvent(.sessionOpened, group: "g", session: 1, atUnixMilliseconds: 0)
        #expect(sender.send(e))
        #expect(sender.send(e))
        #expect(!sender.send(e))
        #expect(sender.counts.dropped == 1 && sender.counts.waiting == 2)
    }

    @Test func stoppingTriesWhatIsLeftOnceAndReturnsWithinItsTime() throws {
        var configuration = try Self.configuration("http://127.0.0.1:9/")  // nothing listens on port 9
        configuration.retry.firstDelaySeconds = 60
        let sender = WebhookSender(configuration)
        sender.start()
        for i in 0..<3 { sender.send(WebhookEvent(.sessionEnded, group: "g", session: i, atUnixMilliseconds: 0)) }
        try waitUntil { sender.counts.retried == 3 }
        let started = Date()
        sender.stop(drainingFor: 2)
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(sender.counts == .init(delivered: 0, retried: 3, failed: 3, dropped: 0, waiting: 0))
    }

    @Test func theKeyMustBeAStandardWebhooksSecretOfAtLeast24Bytes() {
        #expect(WebhookSigningKey(text: Self.secret + "\n") != nil)
        #expect(WebhookSigningKey(text: "whsec_" + Base64.encode(Array(repeating: UInt8(1), count: 23))) == nil)
        #expect(WebhookSigningKey(text: String(Self.secret.dropFirst(6))) == nil)
        #expect(WebhookSigningKey(text: "whsec_not base64!") == nil)
    }

    @Test func retriesBackOffFromOneSecondDoublingToFiveMinutes() {
        let p = WebhookRetryPolicy()
        #expect((1...10).map { p.delaySeconds(afterAttempts: $0) } == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300])
    }

    static func configuration(_ url: String, firstDelay: Double = 1) throws -> WebhookSender.Configuration {
        var c = WebhookSender.Configuration(url: url, key: try #require(WebhookSigningKey(text: secret)))
        c.retry.firstDelaySeconds = firstDelay
        c.timeoutSeconds = 5
        return c
    }
}
