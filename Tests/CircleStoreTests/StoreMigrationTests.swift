import CircleStore
import CircleTestSupport
import Foundation
import Testing

/// A data directory written by the schema before this one (version 1: `room_snapshots` and `room_events` WITHOUT
/// ROWID) opens, is migrated in one transaction, and restores its rooms and records.
@Suite struct StoreMigrationTests {
    /// Version 1's DDL as it shipped, and one room and one session in it.
    static let version1 = """
        PRAGMA journal_mode=WAL;
        CREATE TABLE room_snapshots(group_id TEXT PRIMARY KEY, seq INTEGER NOT NULL,
            epoch INTEGER NOT NULL, body BLOB NOT NULL) WITHOUT ROWID;
        CREATE TABLE room_events(group_id TEXT NOT NULL, seq INTEGER NOT NULL, body BLOB NOT NULL,
            PRIMARY KEY(group_id, seq)) WITHOUT ROWID;
        CREATE TABLE room_safety(group_id TEXT PRIMARY KEY, locked INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE room_removed(group_id TEXT NOT NULL, sub TEXT NOT NULL,
            PRIMARY KEY(group_id, sub)) WITHOUT ROWID;
        CREATE TABLE group_counters(group_id TEXT PRIMARY KEY, last_session INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE sessions(group_id TEXT NOT NULL, number INTEGER NOT NULL,
            opened_at INTEGER NOT NULL, closed_at INTEGER, PRIMARY KEY(group_id, number)) WITHOUT ROWID;
        CREATE TABLE attendance(group_id TEXT NOT NULL, session INTEGER NOT NULL, sub TEXT NOT NULL,
            name TEXT NOT NULL, role TEXT NOT NULL, first_join INTEGER NOT NULL, last_leave INTEGER,
            connected_ms INTEGER NOT NULL, drops INTEGER NOT NULL, resumes INTEGER NOT NULL, turns INTEGER NOT NULL,
            passes INTEGER NOT NULL, spoken_ms INTEGER NOT NULL, hands_raised INTEGER NOT NULL,
            private_sent INTEGER NOT NULL, PRIMARY KEY(group_id, session, sub)) WITHOUT ROWID;
        CREATE INDEX attendance_by_sub ON attendance(group_id, sub);
        PRAGMA user_version=1;
        INSERT INTO room_snapshots VALUES('g', 7, 3, zeroblob(2000)), ('h', 1, 1, X'0102');
        UPDATE room_snapshots SET body = randomblob(2000) WHERE group_id = 'g';
        INSERT INTO room_events VALUES('g', 8, X'08'), ('g', 9, X'09');
        INSERT INTO room_safety VALUES('g', 1);
        INSERT INTO room_removed VALUES('g', 'out');
        INSERT INTO group_counters VALUES('g', 1);
        INSERT INTO sessions VALUES('g', 1, 1000, NULL);
        """

    static func sqlite(_ database: String, _ sql: String) throws -> String {
        let result = try runProcess(["sqlite3", database, sql])
        #expect(result.status == 0, "sqlite3: \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func aVersion1DirectoryIsMigratedAndRestoresItsRooms() throws {
        let temp = TempDirectory()
        try FileManager.default.createDirectory(atPath: temp.data, withIntermediateDirectories: true)
        let database = temp.data + "/circle.db"
        _ = try Self.sqlite(database, Self.version1)
        let body = try Self.sqlite(database, "SELECT hex(body) FROM room_snapshots WHERE group_id = 'g'")

        let h = try StoreHarness(temp.data)
        let room = try #require(try h.await { h.store.loadRoom(group: "g", completion: $0) })
        #expect(room.snapshot?.seq == 7 && room.snapshot?.epoch == 3)
        #expect(room.snapshot.map { $0.bytes.map { String(format: "%02X", $0) }.joined() } == body)
        #expect(room.events == [StoredEvent(seq: 8, bytes: [8]), StoredEvent(seq: 9, bytes: [9])])
        #expect(room.safety == SafetyState(locked: true, removed: ["out"]))
        #expect(try h.await { h.store.listRooms(completion: $0) } == ["g", "h"])
        #expect(try h.await { h.store.sessions(group: "g", completion: $0) }.map(\.number) == [1])
        // The upsert replaces the migrated row in place and compacts the events.
        h.store.putSnapshot(RoomSnapshot(group: "g", seq: 9, epoch: 3, bytes: [UInt8](repeating: 7, count: 2_000)))
        let replaced = try #require(try h.await { h.store.loadRoom(group: "g", completion: $0) })
        #expect(replaced.snapshot?.bytes == [UInt8](repeating: 7, count: 2_000) && replaced.events.isEmpty)
        h.store.close()

        #expect(try Self.sqlite(database, "PRAGMA user_version") == "3")
        let tables = try Self.sqlite(database, """
            SELECT group_concat(name || ': ' || sql, ' | ') FROM sqlite_master
            WHERE type = 'table' AND (name LIKE 'room_snapshots%' OR name LIKE 'room_events%')
            """)
        #expect(tables.contains("room_snapshots: ") && tables.contains("room_events: "), "\(tables)")
        #expect(!tables.contains("WITHOUT ROWID") && !tables.contains("_old"), "\(tables)")
        #expect(try Self.sqlite(database, "SELECT count(*) FROM room_snapshots") == "2")
        #expect(try Self.sqlite(database, """
            SELECT count(*) FROM room_events e JOIN room_snapshots s USING(group_id) WHERE e.id > s.events_from
            """) == "0")
        #expect(try Self.sqlite(database, "PRAGMA integrity_check") == "ok")

        // Opened again: nothing more to migrate, the same rooms.
        let again = try StoreHarness(temp.data)
        #expect(try again.await { again.store.loadRoom(group: "h", completion: $0) }?.snapshot?.bytes == [1, 2])
        again.store.close()
    }

    /// Version 2 (rowid tables; `room_events` keyed by group and seq) is migrated the same way.
    @Test func aVersion2DirectoryKeepsItsJournal() throws {
        let temp = TempDirectory()
        try FileManager.default.createDirectory(atPath: temp.data, withIntermediateDirectories: true)
        let database = temp.data + "/circle.db"
        _ = try Self.sqlite(database, Self.version1
            .replacingOccurrences(of: "epoch INTEGER NOT NULL, body BLOB NOT NULL) WITHOUT ROWID",
                                  with: "epoch INTEGER NOT NULL, body BLOB NOT NULL)")
            .replacingOccurrences(of: "PRIMARY KEY(group_id, seq)) WITHOUT ROWID", with: "PRIMARY KEY(group_id, seq))")
            .replacingOccurrences(of: "group_id TEXT PRIMARY KEY, seq", with: "group_id TEXT NOT NULL PRIMARY KEY, seq")
            .replacingOccurrences(of: "PRAGMA user_version=1", with: "PRAGMA user_version=2")
            .replacingOccurrences(of: "('g', 8, X'08'), ('g', 9, X'09')", with: "('g', 9, X'09'), ('g', 8, X'08')"))
        let h = try StoreHarness(temp.data)
        let room = try #require(try h.await { h.store.loadRoom(group: "g", completion: $0) })
        #expect(room.snapshot?.seq == 7 && room.events == [StoredEvent(seq: 8, bytes: [8]), StoredEvent(seq: 9, bytes: [9])])
        h.store.appendEvent(group: "g", seq: 10, bytes: [10])
        #expect(try h.await { h.store.loadRoom(group: "g", completion: $0) }?.events.map(\.seq) == [8, 9, 10])
        h.store.close()
        #expect(try Self.sqlite(database, "PRAGMA user_version") == "3")
    }

    @Test func aNewDirectoryGetsTheRowidTable() throws {
        let temp = TempDirectory()
        try SQLiteStore(directory: temp.data, wake: {}).close()
        let database = temp.data + "/circle.db"
        #expect(try Self.sqlite(database, "PRAGMA user_version") == "3")
        let ddl = try Self.sqlite(database, "SELECT sql FROM sqlite_master WHERE name = 'room_snapshots'")
        #expect(ddl.contains("group_id TEXT NOT NULL PRIMARY KEY") && !ddl.contains("WITHOUT ROWID"))
        let events = try Self.sqlite(database, "SELECT sql FROM sqlite_master WHERE name = 'room_events'")
        // The journal: appended in order, no index to keep.
        #expect(events.contains("id INTEGER PRIMARY KEY AUTOINCREMENT") && !events.contains("PRIMARY KEY(group_id"))
        let indexes = try Self.sqlite(database, "SELECT count(*) FROM sqlite_master WHERE tbl_name = 'room_events' AND type = 'index'")
        #expect(indexes == "0")
    }
}
