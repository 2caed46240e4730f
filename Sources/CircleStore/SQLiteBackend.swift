/// The SQLite schema and the SQL for each operation: the shared writer's backend in `--data-dir`. Opened on the
/// loop thread before the writer starts; after that used on the writer thread only.
final class SQLiteBackend: StoreBackend {
    /// 2: `room_snapshots` and `room_events` are rowid tables: a body that overflows a WITHOUT ROWID row's local
    /// payload (~1 KB at 4 KB pages; snapshots are ~2 KB) or grows its b-tree's entries costs more CPU a write.
    /// 3: `room_events` is the rooms' journal, appended in order with no index (each record one append to the last
    /// page); a snapshot's `events_from` is the last record before it, and records below every room's are deleted
    /// in bulk.
    static let schemaVersion = 3
    let database: SQLiteDatabase
    /// The commit under way is a full sync: `synchronous` goes back to NORMAL after it.
    private var fullSync = false
    // The hot writes, prepared once (after the schema exists).
    private let insertEvent: SQLiteStatement
    private let upsertSnapshot: SQLiteStatement
    private let compactEvents: SQLiteStatement
    private let upsertAttendance: SQLiteStatement
    /// The journal's last record id.
    private var lastEventID: Int64 = 0
    /// Every group with a snapshot (a journal follows one: a record for any other group is not kept), and the id of
    /// the first record after it, what compaction must keep (0: none).
    private var journals: [String: Int64] = [:]
    /// Records below this id are deleted; records appended since the last compaction.
    private var compactedBelow: Int64 = 0
    private var appendedSinceCompaction = 0
    /// What the transaction under way changed of the above, to put back if it rolls back.
    private var undoLastEventID: Int64 = 0
    private var undoJournals: [(String, Int64?)] = []
    /// Every group's records after its snapshot, read in one pass for a restore (`listRooms`), taken by `loadRoom`
    /// until the next write.
    private var restoring: [String: [StoredEvent]]?
    /// Records appended between two compactions.
    static let compactEvery = 1024

    /// Opens the database, sets WAL and the schema (migrating an older one) and an optional size cap. Throws the
    /// typed error for a corrupt, read-only or newer database (and closes it).
    init(path: String, maxPageCount: Int? = nil) throws(StoreError) {
        let database = try SQLiteDatabase(path: path)
        self.database = database
        do throws(StoreError) {
            try Self.prepare(database)
            if let maxPageCount { _ = try database.scalar("PRAGMA max_page_count=\(maxPageCount)") }
            insertEvent = try database.prepare("INSERT INTO room_events(group_id, seq, body) VALUES(?,?,?)")
            // An upsert in place: the row keeps its rowid and its key's index entry; only the row is rewritten.
            upsertSnapshot = try database.prepare("""
                INSERT INTO room_snapshots(group_id, seq, epoch, body, events_from) VALUES(?,?,?,?,?)
                ON CONFLICT(group_id) DO UPDATE SET seq = excluded.seq, epoch = excluded.epoch, body = excluded.body,
                    events_from = excluded.events_from
                """)
            compactEvents = try database.prepare("DELETE FROM room_events WHERE id < ?")
            // An upsert rewrites the row in place (a REPLACE deletes it and inserts it again).
            upsertAttendance = try database.prepare("""
                INSERT INTO attendance(group_id, session, sub, name, role, first_join, last_leave, connected_ms,
                    drops, resumes, turns, passes, spoken_ms, hands_raised, private_sent)
                VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(group_id, session, sub) DO UPDATE SET
                    name = excluded.name, role = excluded.role, first_join = excluded.first_join,
                    last_leave = excluded.last_leave, connected_ms = excluded.connected_ms, drops = excluded.drops,
                    resumes = excluded.resumes, turns = excluded.turns, passes = excluded.passes,
                    spoken_ms = excluded.spoken_ms, hands_raised = excluded.hands_raised,
                    private_sent = excluded.private_sent
                """)
            let last = try database.prepare("SELECT COALESCE(max(id), 0) FROM room_events")
            if try last.step() { lastEventID = last.int64(0) }
            last.reset()
            let kept = try database.prepare("""
                SELECT e.group_id, min(e.id) FROM room_events e JOIN room_snapshots s ON s.group_id = e.group_id
                WHERE e.id > s.events_from GROUP BY e.group_id
                """)
            let groups = try database.prepare("SELECT group_id FROM room_snapshots")
            while try groups.step() { journals[groups.text(0)] = 0 }
            groups.reset()
            while try kept.step() { journals[kept.text(0)] = kept.int64(1) }
            kept.reset()
        } catch {
            database.close()
            throw error
        }
    }

    /// WAL, normal sync, the schema. Throws the typed error for a corrupt, read-only or newer database.
    private static func prepare(_ database: SQLiteDatabase) throws(StoreError) {
        // A file that is not a database fails here ("file is not a database").
        let mode = try database.scalar("PRAGMA journal_mode=WAL")
        guard mode?.lowercased() == "wal" else {
            throw .io(path: database.path, code: 0, message: "journal_mode is \(mode ?? "?"), not wal")
        }
        // Checkpoints every 4,000 pages (16 MiB of WAL): a page rewritten many times between two is copied once
        // (10 % less CPU a snapshot write than at the default 1,000); the WAL is cut back to 16 MiB after one. A
        // 256 KiB page cache (2 MiB by default) holds the b-trees' inner pages; leaf pages come from the OS's cache
        // at no CPU cost measured (Scripts/store-bench --snapshots), and 10,000 idle members cost 200 B less each.
        try database.execute("""
            PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF; PRAGMA busy_timeout=0;
            PRAGMA journal_size_limit=16777216; PRAGMA wal_autocheckpoint=4000; PRAGMA cache_size=-256
            """)
        let version = Int(try database.scalar("PRAGMA user_version") ?? "0") ?? 0
        guard version <= schemaVersion else { throw .incompatibleSchema(found: version, expected: schemaVersion) }
        // A damaged page of the schema shows up here; a damaged data page shows up on the write that meets it.
        let check = try database.scalar("PRAGMA quick_check(1)")
        guard check == "ok" else { throw .corrupt(path: database.path, detail: check ?? "quick_check failed") }
        guard version < schemaVersion else { return }
        // One transaction: a crash during a migration leaves the old schema whole, to migrate again.
        let steps = version == 0 ? schema : migrations[version] ?? ""
        try database.execute("BEGIN IMMEDIATE;" + steps + "PRAGMA user_version=\(schemaVersion); COMMIT;")
    }

    /// The tables with bodies: rowid tables whose key is a unique index (the bodies stay out of the key's b-tree).
    static let bodyTables = """
        CREATE TABLE IF NOT EXISTS room_snapshots(group_id TEXT NOT NULL PRIMARY KEY, seq INTEGER NOT NULL,
            epoch INTEGER NOT NULL, body BLOB NOT NULL, events_from INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS room_events(id INTEGER PRIMARY KEY AUTOINCREMENT, group_id TEXT NOT NULL,
            seq INTEGER NOT NULL, body BLOB NOT NULL);

        """

    static let schema = bodyTables + """
        CREATE TABLE IF NOT EXISTS room_safety(group_id TEXT PRIMARY KEY, locked INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS room_removed(group_id TEXT NOT NULL, sub TEXT NOT NULL,
            PRIMARY KEY(group_id, sub)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS group_counters(group_id TEXT PRIMARY KEY, last_session INTEGER NOT NULL)
            WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS sessions(group_id TEXT NOT NULL, number INTEGER NOT NULL,
            opened_at INTEGER NOT NULL, closed_at INTEGER, PRIMARY KEY(group_id, number)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS attendance(group_id TEXT NOT NULL, session INTEGER NOT NULL, sub TEXT NOT NULL,
            name TEXT NOT NULL, role TEXT NOT NULL, first_join INTEGER NOT NULL, last_leave INTEGER,
            connected_ms INTEGER NOT NULL, drops INTEGER NOT NULL, resumes INTEGER NOT NULL, turns INTEGER NOT NULL,
            passes INTEGER NOT NULL, spoken_ms INTEGER NOT NULL, hands_raised INTEGER NOT NULL,
            private_sent INTEGER NOT NULL, PRIMARY KEY(group_id, session, sub)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS attendance_by_sub ON attendance(group_id, sub);
        """

    /// From the version found to the current one, run in the opening transaction. 1 → 3: room_snapshots and
    /// room_events were WITHOUT ROWID; 2 → 3: room_events was keyed by group and seq. Their rows are copied into
    /// the current tables (each group's events in seq order, after its snapshot).
    static let migrations = [1: copyBodyTables, 2: copyBodyTables]
    static let copyBodyTables = """
        ALTER TABLE room_snapshots RENAME TO room_snapshots_old;
        ALTER TABLE room_events RENAME TO room_events_old;
        """ + bodyTables + """
        INSERT INTO room_snapshots(group_id, seq, epoch, body)
            SELECT group_id, seq, epoch, body FROM room_snapshots_old;
        INSERT INTO room_events(group_id, seq, body) SELECT group_id, seq, body FROM room_events_old
            ORDER BY group_id, seq;
        DROP TABLE room_snapshots_old;
        DROP TABLE room_events_old;
        """

    // MARK: StoreBackend

    func connect() {}  // the file is always there once open
    var isConnected: Bool { true }
    func checkHealth() {}
    func close() { database.close() }

    /// A durable write in the batch makes its commit a full sync (it survives a power loss).
    func begin(durable: Bool) throws(StoreError) {
        if durable {
            fullSync = true
            try database.execute("PRAGMA synchronous=FULL")
        }
        try database.execute("BEGIN IMMEDIATE")
        undoLastEventID = lastEventID
        undoJournals.removeAll(keepingCapacity: true)
    }

    func commit() throws(StoreError) {
        if appendedSinceCompaction >= Self.compactEvery {
            // Every record below the first one some group still needs goes, in one pass over the oldest pages.
            let below = journals.values.lazy.filter { $0 > 0 }.min() ?? lastEventID + 1
            if below > compactedBelow {
                compactEvents.bind(1, below)
                try compactEvents.run()
                compactedBelow = below
            }
            appendedSinceCompaction = 0
        }
        try database.execute("COMMIT")
        normalSync()
    }

    func rollback() {
        try? database.execute("ROLLBACK")
        normalSync()
        lastEventID = undoLastEventID
        for (group, first) in undoJournals.reversed() { journals[group] = first }
        undoJournals.removeAll(keepingCapacity: true)
    }

    /// Sets the group's entry in ``journals`` (nil: no snapshot), to be put back if the transaction rolls back.
    private func setJournal(_ group: String, _ first: Int64?, was: Int64?) {
        undoJournals.append((group, was))
        journals[group] = first
    }

    private func normalSync() {
        guard fullSync else { return }
        fullSync = false
        try? database.execute("PRAGMA synchronous=NORMAL")
    }

    /// Carries out one operation inside the caller's transaction.
    func apply(_ operation: StoreOperation) throws(StoreError) -> StoreReply {
        if operation.isRoomWrite { restoring = nil }
        switch operation {
        case let .event(group, seq, bytes):
            guard let first = journals[group] else { break }
            insertEvent.bind(1, group); insertEvent.bind(2, seq); insertEvent.bind(3, bytes)
            try insertEvent.run()
            lastEventID = database.lastInsertRowID
            appendedSinceCompaction += 1
            if first == 0 { setJournal(group, lastEventID, was: 0) }
        case let .snapshot(snapshot):
            let s = upsertSnapshot
            s.bind(1, snapshot.group); s.bind(2, snapshot.seq); s.bind(3, snapshot.epoch); s.bind(4, snapshot.bytes)
            s.bind(5, lastEventID)
            try s.run()
            let first = journals[snapshot.group]
            if first != 0 { setJournal(snapshot.group, 0, was: first) }
        case let .safety(group, safety):
            let s = try database.prepare("INSERT OR REPLACE INTO room_safety(group_id, locked) VALUES(?,?)")
            s.bind(1, group); s.bind(2, safety.locked ? 1 : 0)
            try s.run()
            let d = try database.prepare("DELETE FROM room_removed WHERE group_id = ?")
            d.bind(1, group)
            try d.run()
            let r = try database.prepare("INSERT OR IGNORE INTO room_removed(group_id, sub) VALUES(?,?)")
            for sub in safety.removed {
                r.bind(1, group); r.bind(2, sub)
                try r.run()
            }
        case let .dropRoom(group):
            // The group's records stay until compaction; with no snapshot (or a newer one) nothing reads them.
            if let first = journals[group] { setJournal(group, nil, was: first) }
            for table in ["room_snapshots", "room_safety", "room_removed"] {
                let d = try database.prepare("DELETE FROM \(table) WHERE group_id = ?")
                d.bind(1, group)
                try d.run()
            }
        case let .openSession(group, openedAt):
            let c = try database.prepare(
                "UPDATE sessions SET closed_at = ? WHERE group_id = ? AND closed_at IS NULL")
            c.bind(1, openedAt); c.bind(2, group)
            try c.run()
            // The counter outlives retention: numbers never restart, even when every old session was deleted.
            let n = try database.prepare("""
                INSERT INTO group_counters(group_id, last_session) VALUES(?, 1)
                ON CONFLICT(group_id) DO UPDATE SET last_session = last_session + 1 RETURNING last_session
                """)
            n.bind(1, group)
            guard try n.step() else { return .failed(.io(path: database.path, code: 0, message: "no number")) }
            let number = n.int(0)
            n.reset()
            let s = try database.prepare("INSERT INTO sessions(group_id, number, opened_at) VALUES(?,?,?)")
            s.bind(1, group); s.bind(2, number); s.bind(3, openedAt)
            try s.run()
            return .number(number)
        case let .closeSession(group, number, closedAt):
            let s = try database.prepare("UPDATE sessions SET closed_at = ? WHERE group_id = ? AND number = ?")
            s.bind(1, closedAt); s.bind(2, group); s.bind(3, number)
            try s.run()
        case let .attendance(record):
            let s = upsertAttendance
            s.bind(1, record.group); s.bind(2, record.session); s.bind(3, record.sub); s.bind(4, record.name)
            s.bind(5, record.role); s.bind(6, record.firstJoin); s.bind(7, record.lastLeave)
            s.bind(8, record.connectedMs); s.bind(9, record.drops); s.bind(10, record.resumes)
            s.bind(11, record.turns); s.bind(12, record.passes); s.bind(13, record.spokenMs)
            s.bind(14, record.handsRaised); s.bind(15, record.privateSent)
            try s.run()
        case let .deleteRecords(cutoff):
            let a = try database.prepare("""
                DELETE FROM attendance WHERE (group_id, session) IN (SELECT group_id, number FROM sessions
                    WHERE COALESCE(closed_at, opened_at) < ?)
                """)
            a.bind(1, cutoff)
            try a.run()
            let s = try database.prepare("DELETE FROM sessions WHERE COALESCE(closed_at, opened_at) < ?")
            s.bind(1, cutoff)
            try s.run()
            return .number(database.changes)
        case let .erase(group, sub):
            let s = try database.prepare("DELETE FROM attendance WHERE group_id = ? AND sub = ?")
            s.bind(1, group); s.bind(2, sub)
            try s.run()
            return .number(database.changes)
        case let .loadRoom(group):
            return .room(try loadRoom(group))
        case .listRooms:
            try readJournal()
            let s = try database.prepare("""
                SELECT group_id FROM room_snapshots UNION SELECT group_id FROM room_safety ORDER BY 1
                """)
            defer { s.reset() }
            var groups: [String] = []
            while try s.step() { groups.append(s.text(0)) }
            return .rooms(groups)
        case let .sessions(group):
            let s = try database.prepare(
                "SELECT number, opened_at, closed_at FROM sessions WHERE group_id = ? ORDER BY number")
            s.bind(1, group)
            defer { s.reset() }
            var sessions: [SessionRecord] = []
            while try s.step() {
                sessions.append(SessionRecord(group: group, number: s.int(0), openedAt: s.int64(1),
                                              closedAt: s.optionalInt64(2)))
            }
            return .sessions(sessions)
        case let .attendanceQuery(group, sub):
            return .attendance(try attendance(group: group, sub: sub))
        }
        return .done
    }

    private func loadRoom(_ group: String) throws(StoreError) -> RestoredRoom? {
        let s = try database.prepare("SELECT seq, epoch, body, events_from FROM room_snapshots WHERE group_id = ?")
        s.bind(1, group)
        var snapshot: RoomSnapshot?
        var eventsFrom: Int64 = 0
        if try s.step() {
            snapshot = RoomSnapshot(group: group, seq: s.uint64(0), epoch: s.uint64(1), bytes: s.blob(2))
            eventsFrom = s.int64(3)
        }
        s.reset()
        // The records after the snapshot (none without one): from the restore's one pass, or read for this group.
        var events: [StoredEvent] = []
        if restoring != nil {
            events = restoring?.removeValue(forKey: group) ?? []
        } else if snapshot != nil {
            let e = try database.prepare("SELECT seq, body FROM room_events WHERE group_id = ? AND id > ? ORDER BY id")
            e.bind(1, group); e.bind(2, eventsFrom)
            while try e.step() { events.append(StoredEvent(seq: e.uint64(0), bytes: e.blob(1))) }
            e.reset()
        }

        let l = try database.prepare("SELECT locked FROM room_safety WHERE group_id = ?")
        l.bind(1, group)
        let hasSafety = try l.step()
        let locked = hasSafety && l.int(0) != 0
        l.reset()
        let r = try database.prepare("SELECT sub FROM room_removed WHERE group_id = ? ORDER BY sub")
        r.bind(1, group)
        var removed: [String] = []
        while try r.step() { removed.append(r.text(0)) }
        r.reset()
        guard snapshot != nil || !events.isEmpty || hasSafety else { return nil }
        return RestoredRoom(group: group, snapshot: snapshot, events: events,
                            safety: SafetyState(locked: locked, removed: removed))
    }

    /// Reads every group's records after its snapshot in one pass over the journal, for the loads of a restore.
    private func readJournal() throws(StoreError) {
        let e = try database.prepare("""
            SELECT e.group_id, e.seq, e.body FROM room_events e JOIN room_snapshots s ON s.group_id = e.group_id
            WHERE e.id > s.events_from ORDER BY e.id
            """)
        defer { e.reset() }
        var read: [String: [StoredEvent]] = [:]
        while try e.step() { read[e.text(0), default: []].append(StoredEvent(seq: e.uint64(1), bytes: e.blob(2))) }
        restoring = read
    }

    private func attendance(group: String, sub: String?) throws(StoreError) -> [AttendanceRecord] {
        let columns = """
            SELECT session, sub, name, role, first_join, last_leave, connected_ms, drops, resumes, turns, passes,
                spoken_ms, hands_raised, private_sent FROM attendance WHERE group_id = ?
            """
        let order = sub == nil ? " ORDER BY session, sub" : " AND sub = ? ORDER BY session"
        let s = try database.prepare(columns + order)
        s.bind(1, group)
        if let sub { s.bind(2, sub) }
        defer { s.reset() }
        var records: [AttendanceRecord] = []
        while try s.step() {
            records.append(AttendanceRecord(
                group: group, session: s.int(0), sub: s.text(1), name: s.text(2), role: s.text(3),
                firstJoin: s.int64(4), lastLeave: s.optionalInt64(5), connectedMs: s.int64(6), drops: s.int(7),
                resumes: s.int(8), turns: s.int(9), passes: s.int(10), spokenMs: s.int64(11),
                handsRaised: s.int(12), privateSent: s.int(13)))
        }
        return records
    }
}
