import CircleAuth
import CircleHTTP
import CircleLoop
import CircleRecords
import CircleRoom
import CircleServer
import CircleStore
import CircleTestSupport
import Foundation
import Logging
import Synchronization

/// Log lines kept in memory.
final class LogLines: LogSink {
    private let lines = Mutex<[String]>([])
    func write(line: [UInt8]) { lines.withLock { $0.append(String(decoding: line, as: UTF8.self)) } }
    var text: String { lines.withLock { $0.joined() } }
}

/// One HTTP answer as a raw client read it.
struct Answer {
    let raw: String
    var status: Int { Int(raw.split(separator: " ", maxSplits: 2).dropFirst().first ?? "") ?? 0 }
    var body: String { raw.range(of: "\r\n\r\n").map { String(raw[$0.upperBound...]) } ?? "" }
    func header(_ name: String) -> String? {
        let head = raw.range(of: "\r\n\r\n").map { raw[..<$0.lowerBound] } ?? raw[...]
        for line in head.split(separator: "\r\n").dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == name.lowercased() {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}

/// A real server on a real port with the records service over a real SQLite store in a temporary directory, all on
/// one loop driven by the test thread.
final class RecordsHarness: LoopDriver {
    static let secret = Array("records-test-secret-0123456789abcdef".utf8)
    static let operatorSecret = String(repeating: "op", count: 20)

    let directory: String
    let loop: EventLoop
    let server: Server
    let store: SQLiteStore
    let service: RecordsService
    let port: Int
    let logs = LogLines()
    private let wakeup: AsyncWakeup
    private var stopped = false

    init(allowedOrigins: Set<String>? = nil, retentionDays: Int = 365, operatorSecret: Bool = true,
         clock: @escaping () -> Int64 = RecordsService.wallClockMilliseconds) throws {
        directory = NSTemporaryDirectory() + "circle-records-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        loop = try EventLoop()
        var config = ServerConfiguration()
        config.port = 0
        config.allowedOrigins = allowedOrigins
        let logs = self.logs
        let logger = Logger(label: "test") { label in
            var h = CircleLogHandler(label: label, format: .text, sink: logs)
            h.logLevel = .debug
            return h
        }
        server = Server(loop: loop, configuration: config, logger: logger)
        var opened: SQLiteStore?
        wakeup = AsyncWakeup(loop: loop) { opened?.drainCompletions() }
        let signaller = wakeup.signaller
        store = try SQLiteStore(directory: directory + "/data") { signaller.signal() }
        opened = store
        var records = RecordsConfiguration()
        records.tokenSecret = Self.secret
        records.retentionDays = retentionDays
        if operatorSecret { records.operatorCredential = OperatorCredential(fileText: Self.operatorSecret) }
        service = RecordsService(store: store, loop: loop, logger: logger, configuration: records, clock: clock)
        server.application = service
        port = try server.start()[0].port
        server.onStopped = { [unowned self] in self.stopped = true }
    }

    /// A join token for `group`.
    static func token(group: String, sub: String, role: Role, name: String = "Someone") -> String {
        let now = Int64(Date().timeIntervalSince1970)
        return TokenMinter.mint(TokenClaims(sub: sub, name: name, room: group, role: role, exp: now + 3600),
                                secret: secret)
    }

    /// Sends `method path` with `headers` on a new connection and reads the answer until the server closes.
    func request(_ method: String, _ path: String, headers: [String: String] = [:]) -> Answer {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: x\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        let reader = Reader()
        TCPConnection.connect(loop: loop, host: "127.0.0.1", port: port) { result in
            guard case .success(let tcp) = result else { reader.closed = true; return }
            reader.tcp = tcp
            tcp.delegate = reader
            tcp.startReading()
            tcp.write(Array(text.utf8))
        }
        run { reader.closed }
        return Answer(raw: String(decoding: reader.bytes, as: UTF8.self))
    }

    func get(_ path: String, token: String?) -> Answer {
        request("GET", path, headers: token.map { ["Authorization": "Bearer \($0)"] } ?? [:])
    }

    private final class Reader: TCPConnectionDelegate {
        var tcp: TCPConnection?
        var bytes: [UInt8] = []
        var closed = false
        func connection(_ connection: TCPConnection, didRead bytes: UnsafeRawBufferPointer) {
            self.bytes.append(contentsOf: bytes)
        }
        func connectionDidClose(_ connection: TCPConnection, error: LoopError?) { closed = true }
    }

    /// Performs a store call on the loop and waits for its result.
    func result<T>(_ call: (@escaping (Result<T, StoreError>) -> Void) -> Void) throws -> T {
        var result: Result<T, StoreError>?
        call { result = $0 }
        run { result != nil }
        return try result!.get()
    }

    /// Writes a session of `group` with `rows` (sub, role, name) through the store API; returns its number.
    @discardableResult
    func writeSession(group: String, openedAt: Int64, closedAt: Int64?, rows: [(String, String, String)]) throws
        -> Int
    {
        let number = try result { store.openSession(group: group, openedAt: openedAt, completion: $0) }
        for (i, (sub, role, name)) in rows.enumerated() {
            store.putAttendance(AttendanceRecord(group: group, session: number, sub: sub, name: name, role: role,
                                                 firstJoin: openedAt + Int64(i) * 1000, lastLeave: closedAt,
                                                 connectedMs: 60_000, turns: i + 1, spokenMs: 30_000))
        }
        if let closedAt { store.closeSession(group: group, number: number, closedAt: closedAt, completion: nil) }
        store.flush()
        return number
    }

    /// Shuts the server down, closes the store and removes the directory.
    func close() {
        service.stopRetention()
        server.beginShutdown()
        run { stopped }
        wakeup.close()
        store.close()
        run { loop.aliveHandles <= 1 }
        _ = loop.close()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
