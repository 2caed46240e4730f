import CircleStore
import Synchronization

/// The PostgreSQL schema (the SQLite records' tables, columns and keys), the SQL for each operation, and the one
/// libpq connection (blocking API) the shared writer thread runs its batches on: made again after it was lost.
final class PostgresBackend: StoreBackend {
    static let schemaVersion = 1
    private let url: PostgresURL
    private let connectTimeoutSeconds: Int
    private var connection: PostgresConnection?
    /// Connections made again after one was lost (read by the loop).
    let reconnects = Atomic<UInt64>(0)

    /// Connects once (blocking) and checks or creates the schema: throws when the server cannot be reached or
    /// holds a newer schema.
    init(url: PostgresURL, connectTimeoutSeconds: Int) throws(StoreError) {
        self.url = url
        self.connectTimeoutSeconds = connectTimeoutSeconds
        let connection = try PostgresConnection(url: url, timeoutSeconds: connectTimeoutSeconds)
        try Self.prepare(connection)
        self.connection = connection
    }

    // MARK: StoreBackend

    var isConnected: Bool { connection?.isUp == true }

    /// The connection, made again (and the schema checked) when it was lost.
    func connect() throws(StoreError) {
        if let connection, connection.isUp { return }
        connection?.close()
        connection = nil
        let fresh = try PostgresConnection(url: url, timeoutSeconds: connectTimeoutSeconds)
        try Self.prepare(fresh)
        connection = fresh
        reconnects.add(1, ordering: .relaxed)
    }

    func begin(durable: Bool) throws(StoreError) { try db().execute("BEGIN") }  // every COMMIT is synced
    func commit() throws(StoreError) { try db().execute("COMMIT") }

    func rollback() {
        if isConnected {
            _ = try? connection?.execute("ROLLBACK")
        } else {
            connection = nil
        }
    }

    func checkHealth() throws(StoreError) {
        do throws(StoreError) {
            try db().execute("SELECT 1")
        } catch {
            if !isConnected { connection = nil }
            throw error
        }
    }

    func close() {
        connection?.close()
        connection = nil
    }

    func apply(_ operation: StoreOperation) throws(StoreError) -> StoreReply { try Self.apply(operation, db()) }

    private func db() throws(StoreError) -> PostgresConnection {
        guard let connection else { throw .io(path: url.redacted, code: -1, message: "not connected") }
        return connection
    }

    /// The same tables as SQLite's records (Sources/CircleStore/SQLiteBackend.swift), INTEGER as BIGINT.
    static let schema = [
        """
        CREATE TABLE IF NOT EXISTS group_counters(group_id TEXT PRIMARY KEY, last_session BIGINT NOT NULL)
        """,
        """
        CREATE TABLE IF NOT EXISTS sessions(group_id TEXT NOT NULL, number BIGINT NOT NULL,
            opened_at BIGINT NOT NULL, closed_at BIGINT, PRIMARY KEY(group_id, number))
        """,
        """
        CREATE TABLE IF NOT EXISTS attendance(group_id TEXT NOT NULL, session BIGINT NOT NULL, sub TEXT NOT NULL,
            name TEXT NOT NULL, role TEXT NOT NULL, first_join BIGINT NOT NULL, last_leave BIGINT,
            connected_ms BIGINT NOT NULL, drops BIGINT NOT NULL, resumes BIGINT NOT NULL, turns BIGINT NOT NULL,
            passes BIGINT NOT NULL, spoken_ms BIGINT NOT NULL, hands_raised BIGINT NOT NULL,
            private_sent BIGINT NOT NULL, PRIMARY KEY(group_id, session, sub))
        """,
        "CREATE INDEX IF NOT EXISTS attendance_by_sub ON attendance(group_id, sub)",
    ]

    /// Creates the schema on first connect (under an advisory lock, so two processes starting together agree) and
    /// refuses a database a newer Circle wrote.
    static func prepare(_ db: PostgresConnection) throws(StoreError) {
        try db.execute("BEGIN")
        do throws(StoreError) {
            try db.execute("SELECT pg_advisory_xact_lock(7369102)")  // any fixed key: Circle's schema lock
            try db.execute("CREATE TABLE IF NOT EXISTS circle_schema(version INTEGER NOT NULL)")
            let found = Int(try db.execute("SELECT COALESCE(MAX(version), 0) FROM circle_schema").rows[0][0] ?? "0")
                ?? 0
            guard found <= schemaVersion else { throw .incompatibleSchema(found: found, expected: schemaVersion) }
            if found < schemaVersion {
                for statement in schema { try db.execute(statement) }
                try db.execute("DELETE FROM circle_schema")
                try db.execute("INSERT INTO circle_schema(version) VALUES($1)", [String(schemaVersion)])
            }
            try db.execute("COMMIT")
        } catch {
            _ = try? db.execute("ROLLBACK")
            throw error
        }
    }

    /// Carries out one records operation inside the caller's transaction (room state is not PostgreSQL's).
    static func apply(_ operation: StoreOperation, _ db: PostgresConnection) throws(StoreError) -> StoreReply {
        switch operation {
        case let .openSession(group, openedAt):
            try db.execute("UPDATE sessions SET closed_at = $1 WHERE group_id = $2 AND closed_at IS NULL",
                           [String(openedAt), group])
            // The counter outlives retention: numbers never restart, even when every old session was deleted.
            let counted = try db.execute("""
                INSERT INTO group_counters(group_id, last_session) VALUES($1, 1) ON CONFLICT(group_id)
                DO UPDATE SET last_session = group_counters.last_session + 1 RETURNING last_session
                """, [group])
            guard let number = counted.rows.first?[0].flatMap({ Int($0) }) else {
                return .failed(.io(path: db.name, code: 0, message: "no number"))
            }
            try db.execute("INSERT INTO sessions(group_id, number, opened_at) VALUES($1, $2, $3)",
                           [group, String(number), String(openedAt)])
            return .number(number)
        case let .closeSession(group, number, closedAt):
            try db.execute("UPDATE sessions SET closed_at = $1 WHERE group_id = $2 AND number = $3",
                           [String(closedAt), group, String(number)])
        case let .attendance(r):
            try db.execute("""
                INSERT INTO attendance(group_id, session, sub, name, role, first_join, last_leave, connected_ms,
                    drops, resumes, turns, passes, spoken_ms, hands_raised, private_sent)
                VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                ON CONFLICT(group_id, session, sub) DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role,
                    first_join = EXCLUDED.first_join, last_leave = EXCLUDED.last_leave,
                    connected_ms = EXCLUDED.connected_ms, drops = EXCLUDED.drops, resumes = EXCLUDED.resumes,
                    turns = EXCLUDED.turns, passes = EXCLUDED.passes, spoken_ms = EXCLUDED.spoken_ms,
                    hands_raised = EXCLUDED.hands_raised, private_sent = EXCLUDED.private_sent
                """, [r.group, String(r.session), r.sub, r.name, r.role, String(r.firstJoin),
                      r.lastLeave.map { String($0) }, String(r.connectedMs), String(r.drops), String(r.resumes),
                      String(r.turns), String(r.passes), String(r.spokenMs), String(r.handsRaised),
                      String(r.privateSent)])
        case let .deleteRecords(cutoff):
            try db.execute("""
                DELETE FROM attendance WHERE (group_id, session) IN (SELECT group_id, number FROM sessions
                    WHERE COALESCE(closed_at, opened_at) < $1)
                """, [String(cutoff)])
            let deleted = try db.execute("DELETE FROM sessions WHERE COALESCE(closed_at, opened_at) < $1",
                                         [String(cutoff)])
            return .number(deleted.changed)
        case let .erase(group, sub):
            return .number(try db.execute("DELETE FROM attendance WHERE group_id = $1 AND sub = $2",
                                          [group, sub]).changed)
        case let .sessions(group):
            let rows = try db.execute(
                "SELECT number, opened_at, closed_at FROM sessions WHERE group_id = $1 ORDER BY number", [group]).rows
            return .sessions(rows.map { row in
                SessionRecord(group: group, number: int(row[0]), openedAt: int64(row[1]),
                              closedAt: row[2].flatMap { Int64($0) })
            })
        case let .attendanceQuery(group, sub):
            return .attendance(try attendance(group: group, sub: sub, db))
        case .event, .snapshot, .safety, .dropRoom, .loadRoom, .listRooms:
            return .failed(.io(path: db.name, code: 0, message: "room state is not kept in PostgreSQL"))
        }
        return .done
    }

    private static func attendance(group: String, sub: String?,
                                   _ db: PostgresConnection) throws(StoreError) -> [AttendanceRecord] {
        let columns = """
            SELECT session, sub, name, role, first_join, last_leave, connected_ms, drops, resumes, turns, passes,
                spoken_ms, hands_raised, private_sent FROM attendance WHERE group_id = $1
            """
        // COLLATE "C": byte order, as SQLite sorts TEXT, whatever the database's locale.
        let order = sub == nil ? " ORDER BY session, sub COLLATE \"C\"" : " AND sub = $2 ORDER BY session"
        let rows = try db.execute(columns + order, sub.map { [group, $0] } ?? [group]).rows
        return rows.map { r in
            AttendanceRecord(
                group: group, session: int(r[0]), sub: r[1] ?? "", name: r[2] ?? "", role: r[3] ?? "",
                firstJoin: int64(r[4]), lastLeave: r[5].flatMap { Int64($0) }, connectedMs: int64(r[6]),
                drops: int(r[7]), resumes: int(r[8]), turns: int(r[9]), passes: int(r[10]), spokenMs: int64(r[11]),
                handsRaised: int(r[12]), privateSent: int(r[13]))
        }
    }

    private static func int64(_ text: String?) -> Int64 { text.flatMap { Int64($0) } ?? 0 }
    private static func int(_ text: String?) -> Int { text.flatMap { Int($0) } ?? 0 }
}
