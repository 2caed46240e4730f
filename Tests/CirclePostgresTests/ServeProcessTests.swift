import CircleTestSupport
import Foundation
import Testing

/// `circle serve --data-dir DIR --records postgres://…` as a real process: a group session with members (run by
/// `circle load`), then `GET /groups/{id}/attendance` answers with the rows PostgreSQL holds.
@Suite(.serialized, .enabled(if: PostgresServer.available, skipWithoutPostgres))
struct ServeProcessTests {
    static let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        .appendingPathComponent("circle")

    /// A started `circle serve --port 0 …` and its port (read from its log).
    final class Serve {
        let process = Process()
        let errors = Pipe()
        var output = Data()
        var port = 0

        init(_ arguments: [String]) throws {
            process.executableURL = ServeProcessTests.binary
            process.arguments = ["serve", "--port", "0"] + arguments
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(TestTime.seconds(15))
            while !log.contains("connection limit") && Date() < deadline {
                let chunk = errors.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                output.append(chunk)
            }
            for line in log.split(separator: "\n") {
                guard let range = line.range(of: "listening address=127.0.0.1:") else { continue }
                port = Int(line[range.upperBound...].prefix { $0.isNumber }) ?? 0
            }
        }

        var log: String { String(decoding: output, as: UTF8.self) }

        func stop() -> Int32 {
            process.terminate()
            process.waitUntilExit()
            output.append(errors.fileHandleForReading.readDataToEndOfFile())
            return process.terminationStatus
        }
    }

    /// One HTTP/1.1 request over a plain socket; the whole response (the server closes after it).
    static func get(port: Int, path: String, token: String) throws -> String {
        let stream = try #require(FileHandle.connect(port: port))
        let head = "GET \(path) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nConnection: close\r\n\r\n"
        stream.write(Data(head.utf8))
        return String(decoding: stream.readDataToEndOfFile(), as: UTF8.self)
    }

    /// Polls `/readyz` until it answers `status` (true) or 20 s pass (false).
    static func waitForReady(port: Int, status: Int) -> Bool {
        let deadline = Date().addingTimeInterval(TestTime.seconds(20))
        while Date() < deadline {
            if let response = try? get(port: port, path: "/readyz", token: "-"),
               response.hasPrefix("HTTP/1.1 \(status)") { return true }
            usleep(200_000)
        }
        return false
    }

    @Test func attendanceIsServedFromPostgres() throws {
        let postgres = try PostgresServer()
        let dir = NSTemporaryDirectory() + "circle-pg-serve-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let secretFile = dir + "/token.secret"
        try "postgres-process-test-secret-0123456789\n".write(toFile: secretFile, atomically: true, encoding: .utf8)
        let password = "pw-never-logged"
        try postgres.psql("ALTER USER postgres PASSWORD '\(password)'")  // trust auth ignores it; the log must too
        let url = "postgres://postgres:\(password)@127.0.0.1:\(postgres.port)/postgres"
        let server = try Serve(["--data-dir", dir + "/data", "--records", url, "--secret-file", secretFile])
        try #require(server.port > 0, "no port in the log: \(server.log)")

        let load = try runProcess(Self.binary, [
            "load", "--port", "\(server.port)", "--secret-file", secretFile, "--rooms", "1", "--members", "2",
            "--duration", "3", "--churn", "0", "--quiet", "--out", dir + "/load",
        ])
        #expect(load.status == 0, "circle load: \(load.stdout.suffix(500)) \(load.stderr.suffix(500))")
        let group = try postgres.psql("SELECT DISTINCT group_id FROM attendance")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(!group.isEmpty && !group.contains("\n"), "groups in PostgreSQL: \(group)")
        let inPostgres = try postgres.psql("SELECT sub FROM attendance WHERE group_id = '\(group)' ORDER BY sub")
            .split(separator: "\n").map(String.init)
        #expect(inPostgres.count == 3)  // the facilitator and two members
        #expect(try postgres.psql("SELECT count(*) FROM sessions WHERE group_id = '\(group)'") == "1\n")

        let token = try runProcess(Self.binary, ["token", "--secret-file", secretFile, "--room", group, "--sub",
                                                 "reader", "--name", "Reader", "--role", "facilitator"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let response = try Self.get(port: server.port, path: "/groups/\(group)/attendance?format=csv", token: token)
        #expect(response.hasPrefix("HTTP/1.1 200"), "\(response.prefix(300))")
        for sub in inPostgres { #expect(response.contains(sub), "\(sub) missing from \(response)") }

        // PostgreSQL down: /readyz says so (the idle health check, 5 s), and says ready again once it is back.
        postgres.stop()
        #expect(Self.waitForReady(port: server.port, status: 503), "/readyz stayed 200 with PostgreSQL down")
        try postgres.start()
        #expect(Self.waitForReady(port: server.port, status: 200), "/readyz stayed 503 with PostgreSQL back")

        // Room state stays in --data-dir; records are not written there.
        #expect(FileManager.default.fileExists(atPath: dir + "/data/circle.db"))
        #expect(server.stop() == 0)
        #expect(server.log.contains("records kept") && server.log.contains("records=postgres://postgres:***@"))
        #expect(!server.log.contains(password))
    }

    @Test func anUnknownSchemeExitsWithStatusTwo() throws {
        let dir = NSTemporaryDirectory() + "circle-pg-scheme-\(getpid())-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = try runProcess(Self.binary, ["serve", "--port", "0", "--data-dir", dir,
                                               "--records", "mysql://root:pw-secret@127.0.0.1/db"])
        #expect(out.status == 2)
        #expect(out.stderr.contains("records must be a postgres:// URL"))
        #expect(!out.stderr.contains("pw-secret"))
    }
}

extension FileHandle {
    /// A TCP connection to 127.0.0.1:`port` as a file handle; nil when it cannot connect.
    static func connect(port: Int) -> FileHandle? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            Glibc.close(fd)
            return nil
        }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }
}
