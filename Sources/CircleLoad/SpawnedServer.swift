import CircleLoop
import Glibc

/// Why a server could not be started.
public struct SpawnError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public let description: String
}

/// A `circle serve` child process for `circle load --spawn`: started on a free loopback port with the secret in its
/// environment (never on its command line), watched through `/proc` (CPU time, peak RSS) and stopped at the end.
public final class SpawnedServer {
    /// The child's process id.
    public let pid: pid_t
    /// The port it listens on.
    public let port: Int
    private var startTicks = 0
    private var startedAt: UInt64 = 0
    private var exited = false

    /// Starts `binary serve --port <port> <arguments…>` with `CIRCLE_SECRET` set, its standard error in `logPath`;
    /// `port` nil: a free one (a restart passes the port of the process it replaces).
    public init(binary: String, arguments: [String], secret: [UInt8], logPath: String,
                port: Int? = nil) throws(SpawnError) {
        let port = if let port { port } else { try Self.freePort() }
        self.port = port
        // No store unless asked: the default (./circle-data) is shared by every server started in one folder.
        let store = arguments.contains { $0.hasPrefix("--data-dir") } ? [] : ["--data-dir", "none"]
        let argv = [binary, "serve", "--host", "127.0.0.1", "--port", "\(port)"] + store + arguments
        var env: [String] = []
        var e = environ
        while let entry = e.pointee {
            let s = String(cString: entry)
            if !s.hasPrefix("CIRCLE_SECRET=") { env.append(s) }
            e += 1
        }
        env.append("CIRCLE_SECRET=" + String(decoding: secret, as: UTF8.self))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup($0) } + [nil]
        defer {
            cArgs.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, binary, &actions, nil, cArgs, cEnv)
        guard rc == 0 else {
            throw SpawnError(description: "cannot start \(binary): \(String(cString: strerror(rc)))")
        }
        pid = child
    }

    /// A port the kernel says is free on 127.0.0.1 (bound, read and released).
    static func freePort() throws(SpawnError) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SpawnError(description: "socket failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else { throw SpawnError(description: "cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Waits until the server accepts TCP connections (or exits, or `seconds` pass). Starts the CPU clock.
    public func waitUntilListening(seconds: Double) -> Bool {
        let deadline = Self.now() + UInt64(seconds * 1e9)
        while Self.now() < deadline {
            if hasExited() { return false }
            if Self.canConnect(port: port) {
                startTicks = cpuTicks()
                startedAt = Self.now()
                return true
            }
            usleep(20_000)
        }
        return false
    }

    /// Whether it accepts a TCP connection now (one loopback connect, opened and closed).
    public var isListening: Bool { !hasExited() && Self.canConnect(port: port) }

    /// Sends `signal` (SIGTERM: a graceful restart; SIGKILL: a crash), unless it has exited.
    public func deliver(signal: Int32) {
        if !hasExited() { kill(pid, signal) }
    }

    private static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Whether the child has exited (reaped).
    public func hasExited() -> Bool {
        if exited { return true }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { exited = true }
        return exited
    }

    /// utime + stime in clock ticks, from `/proc/PID/stat`.
    func cpuTicks() -> Int {
        guard let stat = Self.read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13 else { return 0 }
        return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
    }

    /// A `kB` field of `/proc/PID/status` (`VmRSS`, `VmHWM`).
    func statusKiB(_ field: String) -> Int? {
        guard let status = Self.read("/proc/\(pid)/status") else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
        }
        return nil
    }

    /// Resident memory now, KiB.
    public var rssKiB: Int? { statusKiB("VmRSS") }

    /// The usage since the server started listening: peak RSS, CPU percent of one core, and its loop lag.
    public func usage() -> ServerUsage {
        let seconds = Double(Self.now() - startedAt) / 1e9
        let ticks = Double(cpuTicks() - startTicks) / Double(sysconf(Int32(_SC_CLK_TCK)))
        let lag = metricsText().flatMap { prometheusHistogramQuantile(0.99, of: "circle_loop_lag_seconds", in: $0) }
        return ServerUsage(peakRSSKiB: statusKiB("VmHWM") ?? 0, cpuPercent: seconds > 0 ? ticks / seconds * 100 : 0,
                           loopLagP99Milliseconds: lag.map { $0 * 1000 })
    }

    /// The server's `/metrics` text (Prometheus exposition), fetched over a blocking loopback socket with a 2 s
    /// timeout; nil if it cannot be read. Used once, at the end of the run.
    public func metricsText() -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return nil }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while response.count < 8 << 20 {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response += chunk[..<n]
        }
        guard response.starts(with: Array("HTTP/1.1 200".utf8)),
              let end = response.indices.dropLast(3).first(where: { response[$0..<$0 + 4] == [13, 10, 13, 10] })
        else { return nil }
        return String(decoding: response[(end + 4)...], as: UTF8.self)
    }

    /// SIGTERM, then SIGKILL if it has not exited within `seconds`. Returns the exit status when it exited normally.
    @discardableResult
    public func stop(seconds: Double = 10) -> Int32? {
        guard !exited else { return nil }
        kill(pid, SIGTERM)
        let deadline = Self.now() + UInt64(seconds * 1e9)
        var status: Int32 = 0
        while Self.now() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid {
                exited = true
                return (status & 0x7f) == 0 ? (status >> 8) & 0xff : nil
            }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
        exited = true
        return nil
    }

    private static func read(_ path: String) -> String? {
        guard case .success(let bytes) = FileContents.read(path) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    deinit { if !exited { stop(seconds: 2) } }
}
