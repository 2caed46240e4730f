/// A ``GroupStore`` whose room state is one store's and whose records are another's: SQLite's room state and
/// PostgreSQL's records (`--records postgres://…`), or Redis's room state shared by the nodes and the records store
/// (`--redis`), or none (a call for records then fails with ``StoreError/closed``).
///
/// The rooms take one `GroupStore` for both halves (`RoomService.records`, `useStore`); this puts the two behind
/// it. Driving (`flush`, `drainCompletions`, `close`) reaches both; `health` is the first that fails; `stats` add up.
public final class SplitGroupStore: GroupStore {
    public let rooms: any RoomStateStore & StoreDriving
    public let records: (any RecordStore & StoreDriving)?
    private let waitRooms: () -> Bool
    private let waitRecords: () -> Bool

    /// `waitRooms` and `waitRecords` block until that half has committed what is queued (``SQLiteStore/waitIdle()``)
    /// and say whether it could.
    public init(rooms: any RoomStateStore & StoreDriving, records: (any RecordStore & StoreDriving)?,
                waitRooms: @escaping () -> Bool = { true }, waitRecords: @escaping () -> Bool = { true }) {
        self.rooms = rooms
        self.records = records
        self.waitRooms = waitRooms
        self.waitRecords = waitRecords
    }

    private static let noRecords = StoreError.closed

    // MARK: RoomStateStore: the room store's

    @discardableResult public func appendEvent(group: String, seq: UInt64, bytes: [UInt8]) -> Bool {
        rooms.appendEvent(group: group, seq: seq, bytes: bytes)
    }

    @discardableResult public func putSnapshot(_ snapshot: RoomSnapshot) -> Bool { rooms.putSnapshot(snapshot) }

    public func putSafety(group: String, _ safety: SafetyState, durable: Bool,
                          completion: ((StoreError?) -> Void)?) {
        rooms.putSafety(group: group, safety, durable: durable, completion: completion)
    }

    public func dropRoom(group: String) { rooms.dropRoom(group: group) }

    public func loadRoom(group: String, completion: @escaping (Result<RestoredRoom?, StoreError>) -> Void) {
        rooms.loadRoom(group: group, completion: completion)
    }

    public func listRooms(completion: @escaping (Result<[String], StoreError>) -> Void) {
        rooms.listRooms(completion: completion)
    }

    // MARK: RecordStore: the records store's

    public func openSession(group: String, openedAt: Int64, completion: @escaping (Result<Int, StoreError>) -> Void) {
        guard let records else { return completion(.failure(Self.noRecords)) }
        records.openSession(group: group, openedAt: openedAt, completion: completion)
    }

    public func closeSession(group: String, number: Int, closedAt: Int64, completion: ((StoreError?) -> Void)?) {
        guard let records else { return completion?(Self.noRecords) ?? () }
        records.closeSession(group: group, number: number, closedAt: closedAt, completion: completion)
    }

    @discardableResult public func putAttendance(_ record: AttendanceRecord) -> Bool {
        records?.putAttendance(record) ?? false
    }

    public func sessions(group: String, completion: @escaping (Result<[SessionRecord], StoreError>) -> Void) {
        guard let records else { return completion(.failure(Self.noRecords)) }
        records.sessions(group: group, completion: completion)
    }

    public func attendance(group: String, sub: String?,
                           completion: @escaping (Result<[AttendanceRecord], StoreError>) -> Void) {
        guard let records else { return completion(.failure(Self.noRecords)) }
        records.attendance(group: group, sub: sub, completion: completion)
    }

    public func deleteRecords(before cutoff: Int64, completion: @escaping (Result<Int, StoreError>) -> Void) {
        guard let records else { return completion(.failure(Self.noRecords)) }
        records.deleteRecords(before: cutoff, completion: completion)
    }

    public func erase(group: String, sub: String, completion: @escaping (Result<Int, StoreError>) -> Void) {
        guard let records else { return completion(.failure(Self.noRecords)) }
        records.erase(group: group, sub: sub, completion: completion)
    }

    // MARK: Driving: both

    public func flush() {
        rooms.flush()
        records?.flush()
    }

    public func drainCompletions() {
        rooms.drainCompletions()
        records?.drainCompletions()
    }

    public var stats: StoreStats {
        let a = rooms.stats, b = records?.stats ?? StoreStats()
        var sum = StoreStats()
        sum.writesQueued = a.writesQueued + b.writesQueued
        sum.writesRefused = a.writesRefused + b.writesRefused
        sum.writesCommitted = a.writesCommitted + b.writesCommitted
        sum.transactions = a.transactions + b.transactions
        sum.failedBatches = a.failedBatches + b.failedBatches
        sum.writesAbandoned = a.writesAbandoned + b.writesAbandoned
        sum.queuedWrites = a.queuedWrites + b.queuedWrites
        sum.queuedBytes = a.queuedBytes + b.queuedBytes
        sum.bytesCommitted = a.bytesCommitted + b.bytesCommitted
        return sum
    }

    public var health: StoreHealth {
        if case .failing = rooms.health { return rooms.health }
        return records?.health ?? .ok
    }

    /// Both stores committed what is queued; false when either is failing.
    @discardableResult public func waitIdle() -> Bool {
        let roomsOK = waitRooms()
        return waitRecords() && roomsOK
    }

    public func close() {
        rooms.close()
        records?.close()
    }
}
