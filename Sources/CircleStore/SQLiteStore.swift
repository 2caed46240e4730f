/// Settings of the embedded store.
public struct StoreConfiguration: Sendable {
    /// Writes waiting (loop side and writer queue) past which events, snapshots and attendance are refused.
    public var maxQueuedWrites = 100_000
    /// Payload bytes waiting past which the same writes are refused.
    public var maxQueuedBytes = 64 << 20
    /// Writes queued on the loop side that trigger a flush without waiting for the turn's end.
    public var flushThreshold = 4_096
    /// How long the writer waits before retrying a batch that failed (disk full, I/O error).
    public var retryDelayNanoseconds = 200_000_000
    /// SQLite's `max_page_count`: a cap on the database's size (nil: none). For tests of a full disk.
    public var maxPageCount: Int?

    public init() {}
}

/// The embedded store: SQLite in WAL mode in `--data-dir`, written by one writer thread (``WriterThread``, shared
/// with CirclePostgres's records store).
///
/// Open it before the loop runs (`open` is synchronous and throws the typed error that refuses a start); after that
/// use it from the loop thread only. `wake` is called from the writer thread when completions are ready: wire it to
/// a libuv async handle whose callback calls `drainCompletions()` on the loop.
public final class SQLiteStore: GroupStore, LoopBackedStore {
    public let directory: String
    private let dataDirectory: DataDirectory
    package let loop: StoreLoop
    /// Groups that had an event refused: they refuse events until their next snapshot, so there is never a gap.
    private var needSnapshot: Set<String> = []

    /// Opens (creating if missing, migrating an older schema) the store in `directory`. Throws `StoreError` for a
    /// directory that cannot be created, is read-only or is held by another process, and for a corrupt or newer
    /// database.
    public init(directory: String, configuration: StoreConfiguration = StoreConfiguration(),
                wake: @escaping @Sendable () -> Void) throws(StoreError) {
        self.directory = directory
        dataDirectory = try DataDirectory(path: directory)
        let backend: SQLiteBackend
        do throws(StoreError) {
            backend = try SQLiteBackend(path: dataDirectory.databasePath, maxPageCount: configuration.maxPageCount)
        } catch {
            dataDirectory.unlock()
            throw error
        }
        let limits = StoreLoop.Limits(maxQueuedWrites: configuration.maxQueuedWrites,
                                      maxQueuedBytes: configuration.maxQueuedBytes,
                                      flushThreshold: configuration.flushThreshold)
        loop = StoreLoop(backend: backend, limits: limits,
                         timing: WriterTiming(retryDelayNanoseconds: configuration.retryDelayNanoseconds), wake: wake)
    }

    deinit { close() }

    // MARK: RoomStateStore

    @discardableResult public func appendEvent(group: String, seq: UInt64, bytes: [UInt8]) -> Bool {
        guard !needSnapshot.contains(group), loop.admit(bytes: bytes.count) else {
            needSnapshot.insert(group)
            return false
        }
        loop.enqueue(.event(group: group, seq: seq, bytes: bytes))
        return true
    }

    @discardableResult public func putSnapshot(_ snapshot: RoomSnapshot) -> Bool {
        guard loop.admit(bytes: snapshot.bytes.count) else { return false }
        needSnapshot.remove(snapshot.group)
        loop.enqueue(.snapshot(snapshot))
        return true
    }

    public func putSafety(group: String, _ safety: SafetyState, durable: Bool,
                          completion: ((StoreError?) -> Void)?) {
        loop.enqueue(.safety(group: group, safety), durable: durable,
                     completion: completion.map { done in { reply in done(reply.error) } })
        if durable { loop.flush() }
    }

    public func dropRoom(group: String) {
        needSnapshot.remove(group)
        loop.enqueue(.dropRoom(group: group))
    }

    public func loadRoom(group: String, completion: @escaping (Result<RestoredRoom?, StoreError>) -> Void) {
        loop.read(.loadRoom(group: group)) { reply in
            guard case let .room(room) = reply else { return completion(.failure(reply.failure)) }
            completion(.success(room))
        }
    }

    public func listRooms(completion: @escaping (Result<[String], StoreError>) -> Void) {
        loop.read(.listRooms) { reply in
            guard case let .rooms(groups) = reply else { return completion(.failure(reply.failure)) }
            completion(.success(groups))
        }
    }

    // The records calls and flush, drainCompletions, stats, health, waitIdle: ``LoopBackedStore``'s.

    /// Flushes, lets the writer commit everything queued and stops it (it closes the database), then unlocks the
    /// data directory. Completions still waiting get `.closed`.
    public func close() {
        guard !loop.closed else { return }
        loop.close()
        dataDirectory.unlock()
    }
}
