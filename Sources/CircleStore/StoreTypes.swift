/// A room's state as the engine last wrote it whole: opaque bytes the store never reads.
public struct RoomSnapshot: Sendable, Equatable {
    /// The group (room id) it belongs to.
    public var group: String
    /// The last event seq the snapshot includes; events at or below it are dropped when it is written (compaction).
    public var seq: UInt64
    /// The room's epoch: changes when a room was restored without some of its events.
    public var epoch: UInt64
    /// The engine's own encoding of its state.
    public var bytes: [UInt8]

    public init(group: String, seq: UInt64, epoch: UInt64, bytes: [UInt8]) {
        self.group = group
        self.seq = seq
        self.epoch = epoch
        self.bytes = bytes
    }
}

/// One event after the snapshot (for the rooms, a journal record), as opaque bytes.
public struct StoredEvent: Sendable, Equatable {
    public var seq: UInt64
    public var bytes: [UInt8]

    public init(seq: UInt64, bytes: [UInt8]) {
        self.seq = seq
        self.bytes = bytes
    }
}

/// What keeps people safe in a group: written so that it survives a crash (see `RoomStateStore.putSafety`).
public struct SafetyState: Sendable, Equatable {
    /// A locked room lets no new participant in.
    public var locked: Bool
    /// The `sub`s removed from the group, who stay out.
    public var removed: [String]

    public init(locked: Bool = false, removed: [String] = []) {
        self.locked = locked
        self.removed = removed
    }
}

/// A group's room state as the store holds it: the latest snapshot, the events since, and the safety state.
public struct RestoredRoom: Sendable, Equatable {
    public var group: String
    public var snapshot: RoomSnapshot?
    /// The events appended after the snapshot, in the order appended (Redis: by seq).
    public var events: [StoredEvent]
    public var safety: SafetyState

    public init(group: String, snapshot: RoomSnapshot?, events: [StoredEvent], safety: SafetyState) {
        self.group = group
        self.snapshot = snapshot
        self.events = events
        self.safety = safety
    }
}

/// One meeting of a group. Times are milliseconds since the Unix epoch, given by the caller.
public struct SessionRecord: Sendable, Equatable {
    public var group: String
    /// Counts up from 1 per group.
    public var number: Int
    public var openedAt: Int64
    public var closedAt: Int64?

    public init(group: String, number: Int, openedAt: Int64, closedAt: Int64? = nil) {
        self.group = group
        self.number = number
        self.openedAt = openedAt
        self.closedAt = closedAt
    }
}

/// One participant's attendance in one session: counts and times only, never what anyone said.
/// Written whole (an upsert keyed by group, session and sub): the caller keeps the running totals.
public struct AttendanceRecord: Sendable, Equatable {
    public var group: String
    public var session: Int
    public var sub: String
    /// The display name at the time.
    public var name: String
    public var role: String
    public var firstJoin: Int64
    public var lastLeave: Int64?
    public var connectedMs: Int64
    public var drops: Int
    public var resumes: Int
    public var turns: Int
    public var passes: Int
    public var spokenMs: Int64
    public var handsRaised: Int
    /// How many private messages were sent; never their text.
    public var privateSent: Int

    public init(group: String, session: Int, sub: String, name: String, role: String, firstJoin: Int64,
                lastLeave: Int64? = nil, connectedMs: Int64 = 0, drops: Int = 0, resumes: Int = 0, turns: Int = 0,
                passes: Int = 0, spokenMs: Int64 = 0, handsRaised: Int = 0, privateSent: Int = 0) {
        self.group = group
        self.session = session
        self.sub = sub
        self.name = name
        self.role = role
        self.firstJoin = firstJoin
        self.lastLeave = lastLeave
        self.connectedMs = connectedMs
        self.drops = drops
        self.resumes = resumes
        self.turns = turns
        self.passes = passes
        self.spokenMs = spokenMs
        self.handsRaised = handsRaised
        self.privateSent = privateSent
    }
}

/// Counters a store exposes for metrics and tests (read on the loop thread).
public struct StoreStats: Sendable, Equatable {
    /// Writes accepted from the loop.
    public var writesQueued: UInt64 = 0
    /// Writes refused because the queue was full (see `StoreConfiguration.maxQueuedWrites`).
    public var writesRefused: UInt64 = 0
    /// Writes committed to disk.
    public var writesCommitted: UInt64 = 0
    /// Transactions committed (one per batch).
    public var transactions: UInt64 = 0
    /// Batches whose transaction failed (and were kept to retry).
    public var failedBatches: UInt64 = 0
    /// Writes given up at `close()` because their batch still failed after three tries (a full disk at shutdown).
    public var writesAbandoned: UInt64 = 0
    /// Writes waiting (on the loop side and in the writer's queue).
    public var queuedWrites: Int = 0
    /// Payload bytes waiting.
    public var queuedBytes: Int = 0
    /// Payload bytes committed (snapshots, events, records).
    public var bytesCommitted: UInt64 = 0

    public init() {}
}

/// Whether the store is writing. `failing` is what /readyz turns into a 503.
public enum StoreHealth: Sendable, Equatable {
    case ok
    case failing(StoreError)
}

/// Every store fault, typed so that the caller can turn it into a log line, a 503 or a refusal to start.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The data directory cannot be created or used (not a directory, a missing parent, ...).
    case directoryUnusable(path: String, errno: Int32)
    /// The data directory or database is on a read-only file system or not writable by this process.
    case readOnly(path: String)
    /// Another process holds the data directory.
    case locked(path: String, holderPID: Int32?)
    /// The database file is not a SQLite database or is damaged.
    case corrupt(path: String, detail: String)
    /// The disk (or the database's size cap) is full.
    case diskFull(path: String)
    /// The database was written by a newer Circle (a schema version this one does not know).
    case incompatibleSchema(found: Int, expected: Int)
    /// Any other SQLite or system error.
    case io(path: String, code: Int32, message: String)
    /// The loop-side queue is full: the write was refused (counted in `StoreStats.writesRefused`).
    case queueFull
    /// The store was closed.
    case closed

    public var description: String {
        switch self {
        case let .directoryUnusable(path, errno): "data directory \(path) unusable (errno \(errno))"
        case let .readOnly(path): "data directory \(path) is read-only"
        case let .locked(path, pid):
            "data directory \(path) is in use by another process" + (pid.map { " (pid \($0))" } ?? "")
        case let .corrupt(path, detail): "database \(path) is corrupt: \(detail)"
        case let .diskFull(path): "disk full writing \(path)"
        case let .incompatibleSchema(found, expected): "database schema \(found) is newer than \(expected)"
        case let .io(path, code, message): "store error \(code) on \(path): \(message)"
        case .queueFull: "store queue full"
        case .closed: "store closed"
        }
    }

    /// True for the faults that should stop a process from starting (the rest degrade /readyz).
    public var refusesStart: Bool {
        switch self {
        case .directoryUnusable, .readOnly, .locked, .corrupt, .incompatibleSchema: true
        case .diskFull, .io, .queueFull, .closed: false
        }
    }
}
