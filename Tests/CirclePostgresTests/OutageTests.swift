import CirclePostgres
import CircleStore
import CircleTestSupport
import Foundation
import Testing

/// PostgreSQL killed mid-run and started again: health goes `failing` then `ok`, reads fail fast meanwhile, and
/// every write made during the outage (attendance, a session's close, a session's opening) lands after it.
@Suite(.serialized, .enabled(if: PostgresServer.available, skipWithoutPostgres))
struct OutageTests {
    static var quick: PostgresConfiguration {
        var c = PostgresConfiguration()
        c.retryDelayNanoseconds = 20_000_000
        c.maxRetryDelayNanoseconds = 100_000_000
        c.healthCheckNanoseconds = 100_000_000
        c.connectTimeoutSeconds = 2
        return c
    }

    @Test func aRestartLosesNoWrite() throws {
        let server = try PostgresServer()
        let (h, store) = try RecordsHarness.postgres(server.url, Self.quick)
        defer { h.close() }
        let s = h.store
        let session = try h.await { s.openSession(group: "g", openedAt: 1_000, completion: $0) }
        for i in 0..<20 { s.putAttendance(ConformanceTests.row("g", session, "p\(i)", turns: 1)) }
        #expect(store.waitIdle())

        server.stop()
        // Idle, the writer notices on its own (the health check), before any write.
        #expect(h.run(seconds: 10) { store.health != .ok }, "health stayed ok with the server down")
        for round in 2...5 {  // every person's row changes four times while the server is away
            for i in 0..<30 { s.putAttendance(ConformanceTests.row("g", session, "p\(i)", turns: round)) }
            h.flush()
            usleep(30_000)
        }
        s.closeSession(group: "g", number: session, closedAt: 9_000, completion: nil)
        var next: Result<Int, StoreError>?
        s.openSession(group: "h", openedAt: 9_500) { next = $0 }
        var read: Result<[SessionRecord], StoreError>?
        s.sessions(group: "g") { read = $0 }
        #expect(h.run { read != nil })
        guard case .failure = read else { Issue.record("a read answered with the server down"); return }
        #expect(next == nil, "a write waiting for the server was answered")
        // Attendance waits one row per person (the last): 30 rows, not 4 × 30.
        #expect(h.run { store.stats.queuedWrites <= 30 + 2 })
        #expect(store.stats.writesRefused == 0)

        try server.start()
        #expect(h.run(seconds: 20) { next != nil && store.health == .ok && store.stats.queuedWrites == 0 })
        #expect(try next?.get() == 1)
        #expect(store.reconnects >= 1)
        let rows = try h.await { s.attendance(group: "g", sub: nil, completion: $0) }
        #expect(rows.count == 30)
        #expect(rows.allSatisfy { $0.turns == 5 })
        let sessions = try h.await { s.sessions(group: "g", completion: $0) }
        #expect(sessions == [SessionRecord(group: "g", number: 1, openedAt: 1_000, closedAt: 9_000)])
        #expect(store.stats.writesAbandoned == 0)
    }

    @Test func closingWhileTheServerIsDownCountsWhatWasNotWritten() throws {
        let server = try PostgresServer()
        let (h, store) = try RecordsHarness.postgres(server.url, Self.quick)
        server.stop()
        for i in 0..<3 { store.putAttendance(ConformanceTests.row("g", 1, "p\(i)", turns: 1)) }
        var closed: StoreError?
        store.erase(group: "g", sub: "p0") { if case .failure(let e) = $0 { closed = e } }
        h.close()
        #expect(store.stats.writesAbandoned == 4)
        #expect(closed == .closed)
    }
}
