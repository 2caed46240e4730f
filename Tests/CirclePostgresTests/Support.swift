import CirclePostgres
import CircleStore
import CircleTestSupport
import Foundation
import Synchronization
import Testing

let skipWithoutPostgres: Comment =
    "PostgreSQL is not installed (Scripts/test installs it: Scripts/lib/deps.sh ensure_test_deps)"

/// Counts the writer's wake-ups (called from the writer thread).
final class WakeCounter: Sendable {
    private let count = Atomic<Int>(0)
    func add() { count.add(1, ordering: .relaxed) }
    func take() -> Int { count.exchange(0, ordering: .relaxed) }
}

enum HarnessError: Error { case timeout(String) }

/// A records store driven like the loop drives it: the test thread is the loop; `wake` only notes that completions
/// wait. The same harness over SQLite's records and PostgreSQL's.
final class RecordsHarness {
    let store: RecordStore
    let counter: WakeCounter
    private let flushStore: () -> Void
    private let drainStore: () -> Void
    private let closeStore: () -> Void

    init(store: RecordStore, counter: WakeCounter, flush: @escaping () -> Void, drain: @escaping () -> Void,
         close: @escaping () -> Void) {
        self.store = store
        self.counter = counter
        flushStore = flush
        drainStore = drain
        closeStore = close
    }

    static func sqlite(_ directory: String) throws -> RecordsHarness {
        let counter = WakeCounter()
        let store = try SQLiteStore(directory: directory) { counter.add() }
        return RecordsHarness(store: store, counter: counter, flush: store.flush, drain: store.drainCompletions,
                              close: store.close)
    }

    static func postgres(_ url: String, _ configuration: PostgresConfiguration = PostgresConfiguration()) throws
        -> (RecordsHarness, PostgresRecordStore)
    {
        let counter = WakeCounter()
        let store = try PostgresRecordStore(url: #require(PostgresURL(url)), configuration: configuration) {
            counter.add()
        }
        return (RecordsHarness(store: store, counter: counter, flush: store.flush, drain: store.drainCompletions,
                               close: store.close), store)
    }

    func flush() { flushStore() }
    func close() { closeStore() }

    /// Runs the loop side until `done` holds (draining completions whenever the writer woke us) or `seconds` pass.
    @discardableResult func run(seconds: Double = 10, until done: () -> Bool) -> Bool {
        flushStore()
        let deadline = Date().addingTimeInterval(TestTime.seconds(seconds))
        while !done() && Date() < deadline {
            if counter.take() > 0 { drainStore() } else { usleep(1000) }
        }
        return done()
    }

    /// Performs an asynchronous call and waits for its result.
    func await<T>(_ call: (@escaping (Result<T, StoreError>) -> Void) -> Void) throws -> T {
        var result: Result<T, StoreError>?
        call { result = $0 }
        run { result != nil }
        guard let result else { throw HarnessError.timeout("no completion") }
        return try result.get()
    }
}
