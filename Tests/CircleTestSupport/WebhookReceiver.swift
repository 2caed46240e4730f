import Foundation

/// Tests/webhooks/receiver.py serving on a free loopback port: a platform's endpoint that verifies every webhook
/// with the Standard Webhooks library. Every request it saw, from its log.
public final class WebhookReceiver {
    public static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("webhooks/receiver.py").path

    public struct Request: Decodable, Sendable {
        public let status: Int
        public let refusal: String?
        public let id: String?
        public let timestamp: String?
        public let contentType: String?
        public let body: String

        enum CodingKeys: String, CodingKey {
            case status, refusal, id, timestamp, body
            case contentType = "content_type"
        }
    }

    public private(set) var url = ""
    private let process = Process()
    private let folder: URL

    public init(secret: String, failFirst: Int = 0) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("receiver-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let portFile = folder.appendingPathComponent("port")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script, "serve", "--secret", secret, "--port-file", portFile.path,
                             "--log", folder.appendingPathComponent("log").path, "--fail-first", String(failFirst)]
        let child = process
        try child.run()
        try waitUntil(seconds: 10) { FileManager.default.fileExists(atPath: portFile.path) || !child.isRunning }
        guard let port = try? String(contentsOf: portFile, encoding: .utf8) else {
            throw ReceiverFailed(reason: "receiver.py did not start (is the standardwebhooks package installed?)")
        }
        url = "http://127.0.0.1:\(port)/hooks"
    }

    public func requests() throws -> [Request] {
        let text = (try? String(contentsOf: folder.appendingPathComponent("log"), encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { try JSONDecoder().decode(Request.self, from: Data($0.utf8)) }
    }

    public func stop() {
        kill(process.processIdentifier, SIGKILL)  // SIGTERM may be blocked in a test process, and a child inherits that
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: folder)
    }
}

struct ReceiverFailed: Error {
    let reason: String
}

/// Polls `condition` every 10 ms for up to `seconds`.
public func waitUntil(seconds: Double = 20, _ condition: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        guard Date() < deadline else { throw WaitTimedOut() }
        usleep(10_000)
    }
}

public struct WaitTimedOut: Error {}
