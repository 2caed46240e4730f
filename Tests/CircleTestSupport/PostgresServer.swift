import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL for one test: `initdb` into a temp dir owned by the `postgres` OS user, the server on a free
/// 127.0.0.1 port with its unix socket in that dir, run as `postgres` (tests run as root; PostgreSQL refuses root).
/// `stop()` kills it the hard way (`pg_ctl stop -m immediate`), `start()` brings it back on the same port and data.
/// Tests skip (`.enabled(if: PostgresServer.available, "…")`) only when the binaries or the user are missing.
public final class PostgresServer: @unchecked Sendable {  // used by one test at a time
    /// Debian's PostgreSQL binaries (the newest version installed), or nil.
    public static let binaries: String? = {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return versions.compactMap(Int.init).sorted().reversed().map { "\(root)/\($0)/bin" }
            .first { FileManager.default.isExecutableFile(atPath: $0 + "/pg_ctl") }
    }()

    public static var available: Bool { binaries != nil && getpwnam("postgres") != nil }

    public let directory: String
    public let port: Int
    private let bin: String
    public private(set) var running = false

    /// The URL Circle is given: trust authentication, the `postgres` database.
    public var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres" }

    public init() throws {
        guard let bin = Self.binaries, let user = getpwnam("postgres") else { throw PostgresServerError.notInstalled }
        self.bin = bin
        directory = "/tmp/circle-pg-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        chown(directory, user.pointee.pw_uid, user.pointee.pw_gid)
        port = try freeLoopbackPort()
        try run(["initdb", "-D", directory + "/data", "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync",
                 "--no-instructions"])
        try start()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Starts the server and waits until it accepts connections.
    public func start() throws {
        let options = "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        try run(["pg_ctl", "-D", directory + "/data", "-l", directory + "/log", "-w", "-t", "30", "-o", options,
                 "start"])
        running = true
    }

    /// Kills the server at once (no shutdown checkpoint: like a crash; the next start recovers).
    public func stop() {
        guard running else { return }
        _ = try? run(["pg_ctl", "-D", directory + "/data", "-m", "immediate", "-w", "stop"])
        running = false
    }

    /// Runs SQL through psql over the unix socket; returns its unaligned, tuples-only output.
    @discardableResult public func psql(_ sql: String) throws -> String {
        try run(["psql", "-h", directory, "-p", "\(port)", "-U", "postgres", "-d", "postgres", "-X", "-q", "-A", "-t",
                 "-v", "ON_ERROR_STOP=1", "-c", sql])
    }

    /// Runs one PostgreSQL binary as the `postgres` user; throws with its output when it fails. Spawned and reaped
    /// here (posix_spawn, waitpid), its output in a file: Foundation's Process left `runuser` unreaped after
    /// `pg_ctl start`, and a pipe would be held open by the server it leaves behind.
    @discardableResult private func run(_ command: [String]) throws -> String {
        let outputPath = directory + "/run-\(UUID().uuidString.prefix(8)).out"
        defer { unlink(outputPath) }
        let arguments = ["/usr/sbin/runuser", "-u", "postgres", "--", bin + "/" + command[0]] + command.dropFirst()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        guard rc == 0 else { throw PostgresServerError.failed(command[0], status: rc, output: "posix_spawn") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exited = status & 0x7f == 0, code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            throw PostgresServerError.failed(command[0], status: exited ? code : -1, output: text)
        }
        return text
    }
}

public enum PostgresServerError: Error, CustomStringConvertible {
    case notInstalled
    case failed(String, status: Int32, output: String)

    public var description: String {
        switch self {
        case .notInstalled: "PostgreSQL is not installed"
        case let .failed(command, status, output): "\(command) failed (\(status)): \(output)"
        }
    }
}
