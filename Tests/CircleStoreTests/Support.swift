import CircleStore
import CircleTestSupport
import Foundation
import Synchronization
import Testing

/// A fresh directory under /tmp for one test, removed (with anything mounted on it) at the end.
final class TempDirectory {
    let path: String
    private var mounts: [String] = []

    init(_ name: String = #function) {
        let base = NSTemporaryDirectory() + "circle-store-\(getpid())-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base
        _ = name
    }

    /// The data directory the store is given (not created yet, so the store creates it).
    var data: String { path + "/data" }

    /// Runs `mount ARGS...` (root only); returns whether it worked, and unmounts `target` at the end.
    func mount(_ arguments: [String], target: String) -> Bool {
        guard let out = try? runProcess(["mount"] + arguments), out.status == 0 else { return false }
        mounts.append(target)
        return true
    }

    deinit {
        for target in mounts.reversed() { _ = try? runProcess(["umount", "-l", target]) }
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A store driven like the loop drives it: the test thread is the loop; `wake` only notes that completions wait.
final class StoreHarness {
    let store: SQLiteStore

    init(_ directory: String, configuration: StoreConfiguration = StoreConfiguration()) throws {
        let counter = WakeCounter()
        store = try SQLiteStore(directory: directory, configuration: configuration) { counter.add() }
        self.counter = counter
    }

    let counter: WakeCounter

    /// Runs the loop side until `done` holds (draining completions whenever the writer woke us) or 10 s pass.
    func run(until done: () -> Bool) {
        store.flush()
        let deadline = Date().addingTimeInterval(TestTime.seconds(10))
        while !done() && Date() < deadline {
            if counter.take() > 0 { store.drainCompletions() } else { usleep(500) }
        }
    }

    /// Performs an asynchronous call and waits for its result.
    func await<T>(_ call: (@escaping (Result<T, StoreError>) -> Void) -> Void) throws -> T {
        var result: Result<T, StoreError>?
        call { result = $0 }
        run { result != nil }
        guard let result else { throw StoreTestError.timeout }
        return try result.get()
    }
}

/// Counts the writer's wake-ups (called from the writer thread).
final class WakeCounter: Sendable {
    private let count = Atomic<Int>(0)
    private let all = Atomic<Int>(0)
    func add() {
        count.add(1, ordering: .relaxed)
        all.add(1, ordering: .relaxed)
    }
    func take() -> Int { count.exchange(0, ordering: .relaxed) }
    /// Every wake-up so far.
    var total: Int { all.load(ordering: .relaxed) }
}

enum StoreTestError: Error { case timeout, noBinary(String) }

/// The `circle-store` tool built with these tests (it sits beside the test bundle).
func storeTool() throws -> URL {
    let bundle = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    let url = bundle.deletingLastPathComponent().appendingPathComponent("circle-store")
    guard FileManager.default.isExecutableFile(atPath: url.path) else { throw StoreTestError.noBinary(url.path) }
    return url
}

/// A `circle-store` child whose standard output is read line by line; standard input stays open until `finish`.
final class StoreChild {
    let process = Process()
    private let output = Pipe()
    private let input = Pipe()
    private var buffer = Data()

    init(_ arguments: [String]) throws {
        process.executableURL = try storeTool()
        process.arguments = arguments
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// The next line it prints (nil at its end).
    func line() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0a) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer = Data(buffer[(newline + 1)...])
                return line
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Closes its standard input (a `hold` child then closes the store and exits) and waits.
    func finish() -> Int32 {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

var isRoot: Bool { geteuid() == 0 }
