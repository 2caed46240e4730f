import CirclePostgres
import CircleStore
import CircleTestSupport
import Foundation
import Testing

/// The writer thread both stores share, on each backend: one transaction per loop turn, and a batch the database
/// refuses (its table renamed away under it): health fails, numbered writes get the error, attendance is kept (one
/// row per person) and lands once the table is back.
@Suite(.serialized) struct SharedWriterTests {
    /// One backend under test: the store, and SQL run beside it by the database's own client.
    struct Backend {
        var store: any RecordStore & StoreDriving
        var harness: RecordsHarness
        var waitIdle: () -> Bool
        var sql: (String) throws -> Void
    }

    static func sqlite(_ directory: String) throws -> Backend {
        let counter = WakeCounter()
        var configuration = StoreConfiguration()
        configuration.retryDelayNanoseconds = 20_000_000
        let store = try SQLiteStore(directory: directory, configuration: configuration) { counter.add() }
        let h = RecordsHarness(store: store, counter: counter, flush: store.flush, drain: store.drainCompletions,
                               close: store.close)
        return Backend(store: store, harness: h, waitIdle: { store.waitIdle() }, sql: { sql in
            let result = try runProcess(["sqlite3", directory + "/circle.db", sql])
            #expect(result.status == 0, "\(result.stderr)")
        })
    }

    static func postgres(_ server: PostgresServer) throws -> Backend {
        let (h, store) = try RecordsHarness.postgres(server.url, OutageTests.quick)
        return Backend(store: store, harness: h, waitIdle: { store.waitIdle() }, sql: { try server.psql($0) })
    }

    static func exercise(_ b: Backend) throws {
        let s = b.store, h = b.harness
        let session = try h.await { s.openSession(group: "g", openedAt: 1_000, completion: $0) }
        let turns = 20, perTurn = 10
        for turn in 0..<turns {
            for i in 0..<perTurn { #expect(s.putAttendance(ConformanceTests.row("g", session, "p\(i)", turns: turn))) }
            s.flush()
        }
        #expect(b.waitIdle())
        #expect(s.stats.writesCommitted == UInt64(1 + turns * perTurn))
        #expect(s.stats.writesQueued == s.stats.writesCommitted)
        // One for the opening, then at most one per turn (fewer when the writer was still busy with the last).
        #expect(s.stats.transactions >= 2 && s.stats.transactions <= UInt64(1 + turns))

        try b.sql("ALTER TABLE attendance RENAME TO attendance_away")
        for round in 1...3 {
            for i in 0..<5 { s.putAttendance(ConformanceTests.row("g", session, "p\(i)", turns: 100 + round)) }
            s.flush()
            usleep(10_000)
        }
        var erased: Result<Int, StoreError>?
        s.erase(group: "g", sub: "p0") { erased = $0 }
        #expect(h.run { erased != nil })
        guard case .failure = erased else {
            Issue.record("erase answered without its table: \(String(describing: erased))")
            return
        }
        #expect(s.health != .ok && s.stats.failedBatches >= 1)
        #expect(h.run { s.stats.queuedWrites <= 5 }, "attendance kept more than one row a person")

        try b.sql("ALTER TABLE attendance_away RENAME TO attendance")
        #expect(h.run { s.health == .ok && s.stats.queuedWrites == 0 })
        let rows = try h.await { s.attendance(group: "g", sub: nil, completion: $0) }
        #expect(rows.map(\.turns) == [103, 103, 103, 103, 103] + [Int](repeating: turns - 1, count: 5))
        h.close()
        #expect(s.stats.writesAbandoned == 0)
    }

    @Test func sqlite() throws {
        let dir = NSTemporaryDirectory() + "circle-shared-writer-\(getpid())-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.exercise(Self.sqlite(dir))
    }

    @Test(.enabled(if: PostgresServer.available, skipWithoutPostgres)) func postgres() throws {
        let server = try PostgresServer()
        try Self.exercise(Self.postgres(server))
    }
}
