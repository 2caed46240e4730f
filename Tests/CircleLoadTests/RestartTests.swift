import CircleLoad
import CircleLoop
import Foundation
import Testing

private let timeScale = Double(ProcessInfo.processInfo.environment["CIRCLE_TEST_TIME_SCALE"] ?? "") ?? 1

/// `circle load --reconnect` against the real `circle` binary (built with these tests, beside the test bundle) with
/// a store: the server is stopped mid-session and a new process starts on the same port and directory.
@Suite(.serialized) struct RestartTests {
    static let secret = Array("restart-test-secret-0123456789abcdef".utf8)

    static func binary() throws -> String {
        let bundle = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let path = bundle.deletingLastPathComponent().appendingPathComponent("circle").path
        try #require(FileManager.default.isExecutableFile(atPath: path),
                     "no circle binary at \(path): build it with the tests (swift build --build-tests)")
        return path
    }

    /// Runs 3 rooms × 4 clients; at 1.2 s the server gets `signal`, and half a second after it has exited a new one
    /// starts on the same port and data directory. The instant it accepts connections is the resumes' reference.
    func restart(_ signal: Int32) throws -> LoadMetrics {
        let binary = try Self.binary()
        let dir = NSTemporaryDirectory() + "circle-load-restart-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let arguments = ["--data-dir", dir + "/data", "--log-level", "warning"]
        var server = try SpawnedServer(binary: binary, arguments: arguments, secret: Self.secret,
                                       logPath: dir + "/server1.log")
        try #require(server.waitUntilListening(seconds: 10 * timeScale))

        var config = LoadConfiguration()
        config.port = server.port
        config.secret = Self.secret
        config.rooms = 3
        config.members = 3
        config.rampSeconds = 0.3 * timeScale
        config.durationSeconds = 5 * timeScale
        config.churn = 0
        config.pace = 5
        config.drainSeconds = 2 * timeScale
        config.progress = false
        config.reconnect = true
        config.reconnectDeadlineSeconds = 10 * timeScale
        config.resumeReference = .file(dir + "/listening")
        let loop = try EventLoop()
        let runner = try LoadRunner(loop: loop, configuration: config)

        // The restart, driven from the loop without blocking it (the old server's clients answer its close).
        enum Step { case running, stopping, down, starting, done }
        var step = Step.running
        let startedAt = EventLoop.hrtime
        var exitedAt: UInt64 = 0
        let poll = LoopTimer(loop: loop)
        var failure: String?
        poll.start(afterMilliseconds: 10, repeatMilliseconds: 10) {
            switch step {
            case .running where EventLoop.hrtime - startedAt > UInt64(1.2e9 * timeScale):
                server.deliver(signal: signal)
                step = .stopping
            case .stopping where server.hasExited():
                exitedAt = EventLoop.hrtime
                step = .down
            case .down where EventLoop.hrtime - exitedAt > UInt64(0.5e9 * timeScale):
                // Down long enough that every client's first retries (50–100 ms backoff) find nobody listening.
                do {
                    server = try SpawnedServer(binary: binary, arguments: arguments, secret: Self.secret,
                                               logPath: dir + "/server2.log", port: config.port)
                    step = .starting
                } catch {
                    failure = "\(error)"
                    step = .done
                }
            case .starting where server.isListening:
                _ = FileManager.default.createFile(atPath: dir + "/listening",
                                                   contents: Data("\(EventLoop.hrtime)".utf8))
                step = .done
            default:
                break
            }
        }
        runner.run()
        poll.close()
        server.stop()
        for _ in 0..<100 where loop.aliveHandles > 0 { loop.runOnce(wait: false); usleep(1000) }
        #expect(loop.close() == 0, "handles left on the loop")
        #expect(failure == nil, "\(failure ?? "")")
        #expect(step == .done, "the new server was listening before the run ended")
        return runner.metrics
    }

    @Test func everyClientResumesByReplayAfterAGracefulRestart() throws {
        let m = try restart(SIGTERM)
        let o = m.outages
        let clients = 12
        #expect(m.errors.isEmpty, "errors: \(m.errors)")
        #expect(o.began == ["1012": clients], "every client closed with 1012 (service restart)")
        #expect(o.resumes.count == clients)
        #expect(o.lost == 0)
        #expect(o.resumes.allSatisfy { $0.replay }, "nothing lost: every resume replays what the client missed")
        #expect(m.resumes == clients, "each took its own seat back")
        #expect(o.referenceAt != nil)
        #expect(o.resumeSeconds.last ?? 99 < 5 * timeScale)
        #expect(o.mirrorRooms == 3 && o.mirrorFailures == 0, "\(o.mirrorExample ?? "")")
    }

    @Test func everyClientResumesWithAFreshSnapshotAfterACrash() throws {
        let m = try restart(SIGKILL)
        let o = m.outages
        let clients = 12
        #expect(m.errors.isEmpty, "errors: \(m.errors)")
        #expect(o.began.values.reduce(0, +) == clients, "every client lost its connection: \(o.began)")
        #expect(o.resumes.count == clients)
        #expect(o.lost == 0)
        #expect(o.resumes.allSatisfy { !$0.replay }, "a new epoch: every resume gets a fresh snapshot")
        #expect(o.failedAttempts["connect_failed", default: 0] > 0, "clients retried while the server was down")
        #expect(o.mirrorRooms == 3 && o.mirrorFailures == 0, "\(o.mirrorExample ?? "")")
    }

    @Test func aClientThatNeverGetsBackIsLost() throws {
        // No server comes back: every client keeps retrying until its deadline, then counts as lost.
        let binary = try Self.binary()
        let server = try SpawnedServer(binary: binary, arguments: [], secret: Self.secret, logPath: "/dev/null")
        try #require(server.waitUntilListening(seconds: 10 * timeScale))
        var config = LoadConfiguration()
        config.port = server.port
        config.secret = Self.secret
        config.rooms = 1
        config.members = 2
        config.rampSeconds = 0.2 * timeScale
        config.durationSeconds = 3 * timeScale
        config.churn = 0
        config.drainSeconds = 1 * timeScale
        config.progress = false
        config.reconnect = true
        config.reconnectDeadlineSeconds = 1 * timeScale
        let loop = try EventLoop()
        let runner = try LoadRunner(loop: loop, configuration: config)
        let kill = LoopTimer(loop: loop)
        kill.start(afterMilliseconds: UInt64(800 * timeScale)) { server.deliver(signal: SIGKILL) }
        runner.run()
        kill.close()
        for _ in 0..<100 where loop.aliveHandles > 0 { loop.runOnce(wait: false); usleep(1000) }
        #expect(loop.close() == 0)
        let o = runner.metrics.outages
        #expect(o.resumes.isEmpty)
        #expect(o.lost == 3)
        #expect(runner.metrics.errors["resume_lost"] == 3)
        #expect(o.attempts > 3, "each retried before giving up")
    }
}
