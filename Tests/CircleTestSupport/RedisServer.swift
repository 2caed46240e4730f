import Foundation

/// A real `redis-server` for one test: a free loopback port, its own temp directory, AOF on and no RDB snapshots.
/// `kill()` stops it with SIGKILL (a crash) and `start()` starts it again on the same port and directory (it reloads
/// its AOF). Stopped and its directory removed at deinit.
public final class RedisServer {
    public private(set) var port: Int32 = 0
    public let directory: String
    private var process: Process?
    /// Given to every start (`init(arguments:)`).
    private let baseArguments: [String]

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static let executable = "/usr/bin/redis-server"

    /// Starts redis-server on a free port (installed by Scripts/lib/deps.sh's `ensure_test_deps`), with `arguments`
    /// added to this and every later start.
    public init(arguments: [String] = []) throws {
        baseArguments = arguments
        directory = NSTemporaryDirectory() + "circle-redis-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard FileManager.default.isExecutableFile(atPath: RedisServer.executable) else {
            throw Failure(description: "\(RedisServer.executable) is missing: Scripts/test installs it "
                                       + "(Scripts/lib/deps.sh ensure_test_deps)")
        }
        var lastError: Error?
        for _ in 0..<5 {  // another process may take the free port before redis-server binds it
            port = Int32(try freeLoopbackPort())
            do {
                try start()
                return
            } catch {
                lastError = error
            }
        }
        throw lastError!
    }

    /// `redis://127.0.0.1:PORT`.
    public var url: String { "redis://127.0.0.1:\(port)" }

    /// Whether the server process is running.
    public var isRunning: Bool { process?.isRunning ?? false }

    /// Starts (or restarts) the server on `port` with `arguments` added, and waits until it answers PING (with
    /// `wait`) or accepts connections (it may still be loading its AOF and answer `-LOADING`).
    public func start(_ arguments: [String] = [], wait: Bool = true) throws {
        guard !isRunning else { return }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: RedisServer.executable)
        p.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--appendonly", "yes", "--dir", directory,
                       "--save", "", "--daemonize", "no", "--logfile", directory + "/redis.log"] + baseArguments
            + arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        let deadline = Date().addingTimeInterval(TestTime.seconds(10))
        while Date() < deadline {
            if !p.isRunning { break }
            if wait ? RedisServer.ping(port: port) : RedisServer.accepts(port: port) { return }
            usleep(20_000)
        }
        kill()
        let log = (try? String(contentsOfFile: directory + "/redis.log", encoding: .utf8)) ?? ""
        throw Failure(description: "redis-server did not start on port \(port): \(log.suffix(500))")
    }

    /// SIGKILL, then waits for the process to end.
    public func kill() {
        guard let p = process else { return }
        if p.isRunning { Foundation.kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        process = nil
    }

    /// SIGSTOP: the server holds its connections open and answers nothing (a hung Redis).
    public func pause() {
        if let p = process, p.isRunning { Foundation.kill(p.processIdentifier, SIGSTOP) }
    }

    /// SIGCONT after `pause()`.
    public func resume() {
        if let p = process, p.isRunning { Foundation.kill(p.processIdentifier, SIGCONT) }
    }

    deinit {
        resume()
        kill()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Whether something accepts connections on the port.
    public static func accepts(port: Int32) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }

    /// Sends PING and waits (up to a second) for `+PONG` (not `-LOADING` while it reloads its AOF).
    public static func ping(port: Int32) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return false }
        let ping = Array("PING\r\n".utf8)
        guard write(fd, ping, ping.count) == ping.count else { return false }
        var reply = [UInt8](repeating: 0, count: 64)
        let n = read(fd, &reply, reply.count)
        return n >= 5 && Array(reply[0..<5]) == Array("+PONG".utf8)
    }

    private static func loopback(port: Int32) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }
}
