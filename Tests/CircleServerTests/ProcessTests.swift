import CircleLoop
import CircleTestSupport
import Foundation
import Testing

/// The real `circle` binary as a process: signals and file-descriptor exhaustion.
final class CircleProcess: ServerDriver {
    let loop: EventLoop
    let process = Process()
    private(set) var port = 0
    /// The TLS listener's port, when there is one.
    private(set) var tlsPort = 0
    private let stderr = Pipe()
    private var output = Data()

    /// The `circle` built with these tests: it sits beside the test bundle (`<scratch>/<triple>/debug/`), so a build
    /// under another `--scratch-path` (the sanitizer builds) runs its own binary, not `.build/debug/circle`.
    static var binary: URL {
        get throws {
            let bundle = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            let url = bundle.deletingLastPathComponent().appendingPathComponent("circle")
            guard FileManager.default.isExecutableFile(atPath: url.path) else {
                throw MissingBinary(path: url.path)
            }
            return url
        }
    }

    struct MissingBinary: Error, CustomStringConvertible {
        let path: String
        var description: String { "no circle binary at \(path): build it with the tests (swift build --build-tests)" }
    }

    /// Starts `circle serve --port 0 …` (through `sh -c` so that a `ulimit` can come first), with no store unless
    /// the arguments name a `--data-dir` (the default, ./circle-data, would be shared by every test).
    init(arguments: [String], shellPrefix: String = "") throws {
        let binary = try Self.binary
        loop = try EventLoop()
        let store = arguments.contains { $0.hasPrefix("--data-dir") } ? [] : ["--data-dir", "none"]
        let command = "\(shellPrefix) exec '\(binary.path)' serve --port 0 "
            + (store + arguments).joined(separator: " ")
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(TestTime.seconds(10))
        // Every listener is logged before the connection limit.
        while !String(decoding: output, as: UTF8.self).contains("connection limit") && Date() < deadline {
            let chunk = stderr.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            output.append(chunk)
        }
        for line in String(decoding: output, as: UTF8.self).split(separator: "\n") {
            guard let range = line.range(of: "listening address=127.0.0.1:") else { continue }
            let found = Int(line[range.upperBound...].prefix { $0.isNumber }) ?? 0
            if line.contains("tls=true") { tlsPort = found } else { port = found }
        }
    }

    /// What the process logged up to its "connection limit" line (its listeners among it).
    var startupLog: String { String(decoding: output, as: UTF8.self) }

    /// Everything the process wrote to standard error (reads what is there now; call after it exits for all).
    func log() -> String {
        output.append(stderr.fileHandleForReading.readDataToEndOfFile())
        return String(decoding: output, as: UTF8.self)
    }

    func cpuTicks() -> Int {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8) else {
            return 0
        }
        let fields = stat.split(separator: ")").last!.split(separator: " ")
        return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)  // utime + stime
    }

    /// Waits up to `seconds` (times `TestTime.scale`) for the process to exit; its status, or nil if it still runs.
    func waitForExit(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(TestTime.seconds(seconds))
        while process.isRunning && Date() < deadline { usleep(10_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    deinit {
        if process.isRunning { process.terminate() }
        loop.close()
    }
}

@Suite(.serialized) struct ProcessTests {
    @Test func sigtermClosesClientsWith1001AndExitsZero() throws {
        let server = try CircleProcess(arguments: ["--conformance-echo"])
        try #require(server.port > 0, "no port in the log")
        let clients = (0..<3).map { _ in TestClient.webSocket(server) }
        #expect(clients.filter(\.upgraded).count == clients.count)
        kill(server.process.processIdentifier, SIGTERM)
        #expect(server.run { clients.allSatisfy(\.tcpClosed) })
        for c in clients { #expect(c.serverClose?.code == 1001) }
        #expect(server.waitForExit(seconds: 10) == 0)
        let log = server.log()
        #expect(log.contains("draining"))
        #expect(log.contains("stopped"))
        #expect(!log.contains("handles left"))
    }

    @Test func descriptorLimitIsAnsweredWith503NeitherSpinningNorCrashing() throws {
        // 32 descriptors: the loop's own few plus a handful of clients.
        let server = try CircleProcess(arguments: [], shellPrefix: "ulimit -n 32;")
        try #require(server.port > 0)
        var clients: [TestClient] = []
        for _ in 0..<60 {
            clients.append(TestClient.raw(server, []))
        }
        server.run(milliseconds: 300)
        let before = server.cpuTicks()
        server.run(milliseconds: 1000)
        let spent = server.cpuTicks() - before  // clock ticks (1/100 s): a spinning accept loop would burn ~100
        #expect(spent < 50, "the server burned \(spent) ticks in one second while out of descriptors")
        #expect(server.process.isRunning)
        // Past the limit (32 descriptors less the reserve) clients are told so, with a status, and closed.
        let refused = clients.filter { $0.status == 503 }
        #expect(!refused.isEmpty)
        #expect(refused.allSatisfy { $0.rawResponseText.contains("Retry-After") })
        for c in clients { c.tcp?.close() }
        server.run(milliseconds: 200)
        // Descriptors are free again: it accepts and answers.
        let ok = TestClient.raw(server, Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(server.run { ok.tcpClosed })
        #expect(ok.status == 200)
        kill(server.process.processIdentifier, SIGTERM)
        #expect(server.waitForExit(seconds: 10) == 0)
        #expect(server.log().contains("connection limit reached"))
    }
}
