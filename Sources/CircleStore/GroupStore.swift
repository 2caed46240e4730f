/// The store as the loop sees it. Every method is called on the loop thread and returns at once: writes are queued
/// and leave in batches (`flush`), and every completion runs later on the loop thread, from `drainCompletions()`.
/// `SQLiteStore` implements it with one writer thread; any implementation keeps the same rules.
///
/// Writes for one group are applied in the order they were made; a read sees every write queued before it.
public protocol RoomStateStore: AnyObject {
    /// Appends one event (a journal record) after the room's latest snapshot; `loadRoom` gives them back in the
    /// order appended. Returns false when the write was refused (queue full); the group then refuses events until
    /// the next `putSnapshot` for it, so the store never holds a silent gap. SQLite keeps every record appended
    /// after a snapshot (several may share a seq) and none for a group without one; Redis keeps one event per seq
    /// (a cluster node appends none).
    @discardableResult func appendEvent(group: String, seq: UInt64, bytes: [UInt8]) -> Bool
    /// Replaces the room's snapshot; the events appended before it are dropped (compaction; Redis drops those
    /// with seq at or below `snapshot.seq`).
    @discardableResult func putSnapshot(_ snapshot: RoomSnapshot) -> Bool
    /// Writes the group's lock and removed list. With `durable`, the write is flushed at once, committed with a full
    /// sync (it survives a crash and a power loss), and `completion` runs after that: the room goes on from there.
    /// Safety writes are never refused for a full queue.
    func putSafety(group: String, _ safety: SafetyState, durable: Bool,
                   completion: ((StoreError?) -> Void)?)
    /// Drops the room's snapshot, events and safety state (the room ended; its records stay).
    func dropRoom(group: String)
    /// Reads one group's room state (nil when the store holds none).
    func loadRoom(group: String, completion: @escaping (Result<RestoredRoom?, StoreError>) -> Void)
    /// The groups whose room state the store holds (to restore after a restart).
    func listRooms(completion: @escaping (Result<[String], StoreError>) -> Void)
}

/// Sessions and attendance, kept for `--records-days`. Same rules as `RoomStateStore`.
public protocol RecordStore: AnyObject {
    /// Opens the group's next session (numbers count up per group from 1); the completion gets its number.
    /// A session still open is closed at `openedAt` first (a crash left it open).
    func openSession(group: String, openedAt: Int64, completion: @escaping (Result<Int, StoreError>) -> Void)
    /// Closes a session.
    func closeSession(group: String, number: Int, closedAt: Int64, completion: ((StoreError?) -> Void)?)
    /// Writes one participant's attendance in one session whole (an upsert).
    @discardableResult func putAttendance(_ record: AttendanceRecord) -> Bool
    /// The group's sessions, oldest first.
    func sessions(group: String, completion: @escaping (Result<[SessionRecord], StoreError>) -> Void)
    /// The group's attendance, by session then sub; only `sub`'s rows when it is given.
    func attendance(group: String, sub: String?,
                    completion: @escaping (Result<[AttendanceRecord], StoreError>) -> Void)
    /// Retention: deletes the sessions that ended (or, never closed, opened) before `cutoff` and their attendance.
    /// The completion gets the number of sessions deleted.
    func deleteRecords(before cutoff: Int64, completion: @escaping (Result<Int, StoreError>) -> Void)
    /// Erasure: deletes every attendance row of `sub` in `group`. The completion gets the number of rows deleted.
    func erase(group: String, sub: String, completion: @escaping (Result<Int, StoreError>) -> Void)
}

/// What the loop needs to drive any store (or half of one).
public protocol StoreDriving: AnyObject {
    /// Hands the writes queued so far to the writer as one batch (one transaction). Call once per loop turn
    /// (or from a short timer: the crash-loss bound is the time between flushes plus one transaction).
    func flush()
    /// Runs the completions that are ready. Call on the loop thread when the store's wake-up fires.
    func drainCompletions()
    /// The counters (cheap; for metrics and tests).
    var stats: StoreStats { get }
    /// `failing` while writes fail (disk full, I/O error): /readyz should answer 503.
    var health: StoreHealth { get }
    /// Flushes, waits for every queued write to be committed, and stops the writer (graceful shutdown).
    func close()
}

/// Both halves, plus what the loop needs to drive them.
public protocol GroupStore: RoomStateStore, RecordStore, StoreDriving {}
