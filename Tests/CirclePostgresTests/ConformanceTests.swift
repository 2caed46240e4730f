import CirclePostgres
import CircleStore
import CircleTestSupport
import Foundation
import Testing

/// Every answer a records store gave to the same calls, in order.
struct Transcript: Equatable {
    var numbers: [Int] = []
    var sessions: [[SessionRecord]] = []
    var attendance: [[AttendanceRecord]] = []
}

/// The same calls against SQLite's records and PostgreSQL's, and the same answers: sessions numbered per group,
/// upserted attendance, the per-sub filter, byte-order sorting, retention, erasure.
@Suite(.serialized, .enabled(if: PostgresServer.available, skipWithoutPostgres))
struct ConformanceTests {
    static func row(_ group: String, _ session: Int, _ sub: String, turns: Int, leave: Int64? = nil)
        -> AttendanceRecord
    {
        AttendanceRecord(group: group, session: session, sub: sub, name: "Name \(sub) é", role: "member",
                         firstJoin: 1_000 + Int64(session), lastLeave: leave, connectedMs: 60_000 + Int64(turns),
                         drops: 1, resumes: 2, turns: turns, passes: 3, spokenMs: Int64(turns) * 1_000,
                         handsRaised: 4, privateSent: 5)
    }

    /// The calls; every answer goes into the transcript.
    static func exercise(_ h: RecordsHarness) throws -> Transcript {
        var t = Transcript()
        let s = h.store
        t.numbers.append(try h.await { s.openSession(group: "g1", openedAt: 1_000, completion: $0) })
        t.numbers.append(try h.await { s.openSession(group: "g2", openedAt: 1_500, completion: $0) })
        // Subs that sort differently by bytes and by a locale's rules.
        for sub in ["b", "a", "B", "_x", "Z"] { #expect(s.putAttendance(row("g1", 1, sub, turns: 1))) }
        s.putAttendance(row("g2", 1, "a", turns: 7))
        // The second session of g1 closes the first (left open) at its opening.
        t.numbers.append(try h.await { s.openSession(group: "g1", openedAt: 2_000, completion: $0) })
        s.putAttendance(row("g1", 2, "a", turns: 1))
        s.putAttendance(row("g1", 1, "a", turns: 9, leave: 1_900))  // an upsert: the whole row replaced
        s.putAttendance(row("g1", 2, "a", turns: 2, leave: 4_000))
        s.closeSession(group: "g1", number: 2, closedAt: 5_000, completion: nil)
        for group in ["g1", "g2", "none"] {
            t.sessions.append(try h.await { s.sessions(group: group, completion: $0) })
        }
        t.attendance.append(try h.await { s.attendance(group: "g1", sub: nil, completion: $0) })
        t.attendance.append(try h.await { s.attendance(group: "g1", sub: "a", completion: $0) })
        t.attendance.append(try h.await { s.attendance(group: "g2", sub: nil, completion: $0) })
        t.attendance.append(try h.await { s.attendance(group: "g1", sub: "nobody", completion: $0) })
        // Erasure: one person in one group.
        t.numbers.append(try h.await { s.erase(group: "g1", sub: "a", completion: $0) })
        t.numbers.append(try h.await { s.erase(group: "g1", sub: "a", completion: $0) })
        t.attendance.append(try h.await { s.attendance(group: "g1", sub: nil, completion: $0) })
        t.attendance.append(try h.await { s.attendance(group: "g2", sub: nil, completion: $0) })
        // Retention: g1's first (closed at 2000) and g2's (open, opened at 1500) go; g1's second stays.
        t.numbers.append(try h.await { s.deleteRecords(before: 2_500, completion: $0) })
        for group in ["g1", "g2"] {
            t.sessions.append(try h.await { s.sessions(group: group, completion: $0) })
            t.attendance.append(try h.await { s.attendance(group: group, sub: nil, completion: $0) })
        }
        // Numbers never restart, even after retention deleted every session.
        t.numbers.append(try h.await { s.openSession(group: "g2", openedAt: 9_000, completion: $0) })
        t.numbers.append(try h.await { s.deleteRecords(before: 1_000, completion: $0) })
        return t
    }

    @Test func postgresAnswersAsSQLiteDoes() throws {
        let dir = NSTemporaryDirectory() + "circle-pg-conformance-\(getpid())-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sqlite = try RecordsHarness.sqlite(dir)
        let expected = try Self.exercise(sqlite)
        sqlite.close()

        let server = try PostgresServer()
        let (h, store) = try RecordsHarness.postgres(server.url)
        let got = try Self.exercise(h)
        #expect(got == expected)
        #expect(store.health == .ok && store.stats.failedBatches == 0)
        h.close()

        // What both must say, so that a shared mistake fails too.
        #expect(expected.numbers == [1, 1, 2, 2, 0, 2, 2, 0])
        #expect(expected.sessions[0] == [SessionRecord(group: "g1", number: 1, openedAt: 1_000, closedAt: 2_000),
                                         SessionRecord(group: "g1", number: 2, openedAt: 2_000, closedAt: 5_000)])
        #expect(expected.attendance[0].map { "\($0.session)\($0.sub)" } == ["1B", "1Z", "1_x", "1a", "1b", "2a"])
        #expect(expected.attendance[0][3] == Self.row("g1", 1, "a", turns: 9, leave: 1_900))
        #expect(expected.attendance[1].map(\.turns) == [9, 2])
        #expect(expected.attendance[3].isEmpty)
        #expect(expected.attendance[4].map(\.sub) == ["B", "Z", "_x", "b"])
        #expect(expected.attendance[6].isEmpty && expected.attendance[7].isEmpty)
    }

    @Test func theSchemaHasSQLitesTablesColumnsAndKeys() throws {
        let server = try PostgresServer()
        let (h, _) = try RecordsHarness.postgres(server.url)
        h.close()
        let columns = try server.psql("""
            SELECT table_name || '.' || column_name || ':' || data_type || ':' || is_nullable
            FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'circle_schema'
            ORDER BY table_name, ordinal_position
            """).split(separator: "\n")
        #expect(columns.count == 2 + 4 + 15)
        #expect(columns.contains("attendance.last_leave:bigint:YES"))
        #expect(columns.contains("sessions.closed_at:bigint:YES"))
        #expect(columns.contains("attendance.private_sent:bigint:NO"))
        let keys = try server.psql("""
            SELECT conrelid::regclass || ':' || pg_get_constraintdef(oid) FROM pg_constraint
            WHERE contype = 'p' AND connamespace = 'public'::regnamespace ORDER BY 1
            """).split(separator: "\n")
        #expect(keys == ["attendance:PRIMARY KEY (group_id, session, sub)", "group_counters:PRIMARY KEY (group_id)",
                         "sessions:PRIMARY KEY (group_id, number)"])
        #expect(try server.psql("SELECT version FROM circle_schema") == "1\n")
    }

    @Test func aNewerSchemaOrAnUnreachableServerRefusesToOpen() throws {
        let server = try PostgresServer()
        let (h, _) = try RecordsHarness.postgres(server.url)
        h.close()
        try server.psql("UPDATE circle_schema SET version = 2")
        #expect(throws: StoreError.incompatibleSchema(found: 2, expected: 1)) {
            _ = try PostgresRecordStore(url: #require(PostgresURL(server.url))) {}
        }
        server.stop()
        let secret = "hunter2-not-logged"
        let url = try #require(PostgresURL("postgres://postgres:\(secret)@127.0.0.1:\(server.port)/postgres"))
        do {
            _ = try PostgresRecordStore(url: url) {}
            Issue.record("opened with the server down")
        } catch {
            #expect(error.refusesStart == false)
            #expect(!error.description.contains(secret))
            #expect(error.description.contains("postgres://postgres:***@127.0.0.1:\(server.port)/postgres"))
        }
    }

    @Test func urlsAreCheckedAndShownWithoutTheirPassword() {
        #expect(PostgresURL("postgres://u@h:5432/db") != nil)
        #expect(PostgresURL("postgresql://u@h/db") != nil)
        #expect(PostgresURL("mysql://u@h/db") == nil)
        #expect(PostgresURL("postgres://") == nil)
        #expect(PostgresURL("/var/lib/circle") == nil)
        #expect(PostgresURL.redact("postgres://u:p@ss@h:5432/db") == "postgres://u:***@h:5432/db")
        #expect(PostgresURL.redact("postgres://u@h/db?sslmode=require&password=x") ==
                "postgres://u@h/db?sslmode=require&password=***")
        #expect(PostgresURL.redact("postgres://u@h/db") == "postgres://u@h/db")
        #expect("\(PostgresURL("postgres://u:secret@h/db")!)" == "postgres://u:***@h/db")
        let url = PostgresURL("postgres://u:s3cret@h/db?password=other")!
        #expect(url.scrub("bad token \"s3cret\" and other") == "bad token \"***\" and ***")
        // libpq's own message for a URL it cannot parse names no password either.
        do {
            _ = try PostgresRecordStore(url: PostgresURL("postgres://u:pw%zz-s3cret@127.0.0.1:1/db")!) {}
            Issue.record("opened with a malformed URL")
        } catch {
            #expect(!error.description.contains("s3cret"), "\(error)")
        }
    }
}
