import CircleLoop
import CircleStore

/// Settings of the Redis room store.
public struct RedisStoreConfiguration: Sendable {
    public var keys = RedisKeys()
    /// How long a lease lives without a renewal; renewals run every third of it.
    public var leaseMilliseconds: UInt64 = 10_000
    /// Writes waiting (in flight or for a connection) past which events and snapshots are refused.
    public var maxQueuedWrites = 100_000
    /// Payload bytes waiting past which the same writes are refused.
    public var maxQueuedBytes = 64 << 20
    public var client = RedisClientConfiguration()

    public init() {}
}

/// Rooms' state in Redis, and which node owns each room: a lease per room with a fencing epoch (Docs/STORAGE.md).
///
/// Use it from the loop thread only. Every write carries the fence of this node's lease and a Lua script refuses it
/// when the room's fence has moved on; a refused write counts in `fencedWritesRefused` and calls `onLost`. Writes for
/// a group this node holds no lease for are refused here. Redis replies run their completions directly on the loop;
/// completions of writes refused here run from `drainCompletions()` (called by a zero timer of the store's own).
public final class RedisRoomStore: RoomStateStore, RoomOwnership, StoreDriving {
    public let node: NodeIdentity
    public let client: RedisClient
    public let keys: RedisKeys
    public var onLost: ((_ group: String) -> Void)?
    public var leaseMilliseconds: UInt64 { configuration.leaseMilliseconds }

    /// Writes refused for want of the room's fence: by a script (another node took the room) or here (no lease).
    public private(set) var fencedWritesRefused: UInt64 = 0

    private let configuration: RedisStoreConfiguration
    private var leases: [String: Lease] = [:]
    private let renewTimer: LoopTimer
    private let deferTimer: LoopTimer
    private let lapseTimer: LoopTimer
    private var deferred: [() -> Void] = []
    private var counters = StoreStats()
    private var outstandingWrites = 0
    private var outstandingBytes = 0
    /// Groups that had an event refused: they refuse events until their next snapshot (no silent gap).
    private var needSnapshot: Set<String> = []
    /// The last write that got an error reply (cleared by the next write that succeeds).
    private var writeError: StoreError?
    private var closed = false

    private struct Lease {
        var fence: UInt64
        /// `EventLoop.hrtime` (ns) until which the lease surely holds: when the last successful claim or renewal was
        /// sent, plus the lease's length. Redis starts its expiry later, when it runs the command.
        var validUntil: UInt64
        var renewing = false
    }

    /// Connects to `endpoint` (asynchronously: `health` is failing until the connection is up).
    public init(endpoint: RedisEndpoint, node: NodeIdentity, loop: EventLoop,
                configuration: RedisStoreConfiguration = RedisStoreConfiguration()) {
        self.node = node
        self.configuration = configuration
        keys = configuration.keys
        client = RedisClient(endpoint: endpoint, loop: loop, configuration: configuration.client)
        for script in RedisScripts.all { client.preload(script) }
        renewTimer = LoopTimer(loop: loop)
        deferTimer = LoopTimer(loop: loop)
        lapseTimer = LoopTimer(loop: loop)
        renewTimer.unref()
        let period = max(configuration.leaseMilliseconds / 3, 1)
        renewTimer.start(afterMilliseconds: period, repeatMilliseconds: period) { [weak self] in self?.renewAll() }
    }

    deinit { close() }

    // MARK: RoomOwnership

    public func claim(group: String, completion: @escaping (Result<RoomClaim, StoreError>) -> Void) {
        let sentAt = EventLoop.hrtime
        let args = [node.id, node.address, String(leaseMilliseconds)].map { Array($0.utf8) }
        let k = [keys.lease(group), keys.fence(group)]
        client.evaluate(RedisScripts.claim, keys: k, args: args) { [weak self] r in
            guard let self else { return }
            switch r {
            case let .success(.array(reply)) where reply.count == 2 && reply[0] != .integer(2):
                guard let fence = reply[1].integerValue, fence > 0 else { return completion(.failure(self.bad(r))) }
                let taken = reply[0] == .integer(1)
                if taken, let old = self.leases[group], old.fence != UInt64(fence) {
                    self.lose(group, fence: old.fence)
                }
                self.leases[group] = Lease(fence: UInt64(fence), validUntil: sentAt + self.leaseNanoseconds)
                completion(.success(.owned(fence: UInt64(fence), taken: taken)))
            case let .success(.array(reply)) where reply.count == 3:
                if let old = self.leases[group] { self.lose(group, fence: old.fence) }
                completion(.success(.ownedBy(NodeIdentity(id: reply[1].text ?? "", address: reply[2].text ?? ""))))
            default:
                completion(.failure(self.bad(r)))
            }
        }
    }

    public func release(group: String, fence: UInt64) { release(group: group, fence: fence, completion: nil) }

    /// `release`, with a completion once Redis has run it: `true` when the lease was deleted, `false` when it no
    /// longer carried `fence` (or had lapsed). For a draining node that hands a room over.
    public func release(group: String, fence: UInt64, completion: ((Result<Bool, StoreError>) -> Void)?) {
        if leases[group]?.fence == fence { leases[group] = nil }
        client.evaluate(RedisScripts.release, keys: [keys.lease(group)], args: [Array(String(fence).utf8)]) {
            [weak self] r in
            guard let self, let completion else { return }
            guard case let .success(.integer(deleted)) = r else { return completion(.failure(self.bad(r))) }
            completion(.success(deleted == 1))
        }
    }

    /// Who holds the room's lease now, and with which fence, without taking it (nil: nobody; the room is free).
    public func holder(group: String, completion: @escaping (Result<(NodeIdentity, UInt64)?, StoreError>) -> Void) {
        client.send([Array("HMGET".utf8), Array(keys.lease(group).utf8)] + ["node", "address", "fence"].map {
            Array($0.utf8)
        }) { [weak self] r in
            guard let self else { return }
            guard case let .success(.array(fields)) = r, fields.count == 3 else {
                return completion(.failure(self.bad(r)))
            }
            guard let id = fields[0].text, let address = fields[1].text, let fence = fields[2].integerValue else {
                return completion(.success(nil))
            }
            completion(.success((NodeIdentity(id: id, address: address), UInt64(fence))))
        }
    }

    /// Whether this node surely holds the room's lease now, by its own monotonic clock: false once a lease's length
    /// has passed since the last successful renewal was sent, even before any Redis reply (a paused process).
    public func holdsLease(group: String) -> Bool {
        guard let lease = leases[group] else { return false }
        return EventLoop.hrtime < lease.validUntil
    }

    /// The fence of the lease this node holds for `group` (nil when it holds none).
    public func fence(group: String) -> UInt64? { leases[group]?.fence }

    /// The groups whose leases this node holds.
    public var heldGroups: [String] { Array(leases.keys) }

    private var leaseNanoseconds: UInt64 { leaseMilliseconds * 1_000_000 }

    /// Every third of a lease: renews every lease held in one script call (a few, past `renewBatch` leases), so that
    /// renewing costs Redis and the loop one command, not one per room. A lease whose time ran out (no renewal got
    /// through, or the process was paused) is lost after this loop turn's reads: input already waiting for its room
    /// (a paused process wakes with full sockets) meets `holdsLease` false and stops the room with that input in its
    /// last snapshot, instead of being dropped unread when the room's connections close.
    private func renewAll() {
        let now = EventLoop.hrtime
        var batch: [(group: String, fence: UInt64)] = []
        var lapsed: [(group: String, fence: UInt64)] = []
        for (group, lease) in leases {
            if now >= lease.validUntil {
                lapsed.append((group, lease.fence))
                continue
            }
            guard !lease.renewing else { continue }
            leases[group]?.renewing = true
            batch.append((group, lease.fence))
            if batch.count == Self.renewBatch {
                renew(batch, sentAt: now)
                batch = []
            }
        }
        if !batch.isEmpty { renew(batch, sentAt: now) }
        guard !lapsed.isEmpty else { return }
        lapseTimer.start(afterMilliseconds: 0) { [weak self] in
            guard let self else { return }
            for (group, fence) in lapsed where self.leases[group].map({ EventLoop.hrtime >= $0.validUntil }) == true {
                self.lose(group, fence: fence, lapsed: true)
            }
        }
    }

    /// Leases renewed by one script call at most.
    static let renewBatch = 500

    private func renew(_ batch: [(group: String, fence: UInt64)], sentAt: UInt64) {
        let args = [node.id, String(leaseMilliseconds)].map { Array($0.utf8) }
            + batch.map { Array(String($0.fence).utf8) }
        client.evaluate(RedisScripts.renewMany, keys: batch.map { keys.lease($0.group) }, args: args) {
            [weak self] r in
            guard let self else { return }
            let renewed: [RedisValue]? = if case let .success(.array(items)) = r, items.count == batch.count {
                items
            } else {
                nil
            }
            for (i, (group, fence)) in batch.enumerated() where self.leases[group]?.fence == fence {
                self.leases[group]?.renewing = false
                switch renewed?[i] {
                case .integer(1)?: self.leases[group]?.validUntil = sentAt + self.leaseNanoseconds
                case .integer(0)?: self.lose(group, fence: fence, lapsed: true)  // gone, perhaps not claimed
                default: break  // no answer: the lease runs out by `validUntil` unless a later renewal gets through
                }
            }
        }
    }

    /// Forgets the lease (when it still has `fence`) and tells the owner of the room. A lease that `lapsed` (by this
    /// node's clock, or a renewal found it gone: another node may not have claimed the room) is still known while
    /// `onLost` runs: the owner may send the room's last snapshot under its fence (Redis refuses it if another node
    /// has claimed the room since; else the next owner restores it).
    private func lose(_ group: String, fence: UInt64, lapsed: Bool = false) {
        guard leases[group]?.fence == fence else { return }
        if lapsed {
            onLost?(group)
            if leases[group]?.fence == fence { leases[group] = nil }
        } else {
            leases[group] = nil
            onLost?(group)
        }
    }

    // MARK: RoomStateStore

    @discardableResult public func appendEvent(group: String, seq: UInt64, bytes: [UInt8]) -> Bool {
        guard !needSnapshot.contains(group) else {
            counters.writesRefused += 1
            return false
        }
        let ok = write(group, RedisScripts.append, keys: [keys.fence(group), keys.events(group), keys.groups],
                       args: [Array(String(seq).utf8), bytes, Array(group.utf8)], bytes: bytes.count, refusable: true)
        if !ok { needSnapshot.insert(group) }
        return ok
    }

    @discardableResult public func putSnapshot(_ snapshot: RoomSnapshot) -> Bool {
        let group = snapshot.group
        let ok = write(group, RedisScripts.snapshot,
                       keys: [keys.fence(group), keys.snapshot(group), keys.events(group), keys.groups],
                       args: [Array(String(snapshot.seq).utf8), Array(String(snapshot.epoch).utf8), snapshot.bytes,
                              Array(group.utf8)],
                       bytes: snapshot.bytes.count, refusable: true)
        if ok { needSnapshot.remove(group) }
        return ok
    }

    /// Completes when Redis has acknowledged the write (with appendfsync everysec, Redis may still lose the last
    /// second of acknowledged writes if it crashes: Docs/STORAGE.md). `durable` changes nothing here.
    public func putSafety(group: String, _ safety: SafetyState, durable: Bool,
                          completion: ((StoreError?) -> Void)?) {
        var args = [Array((safety.locked ? "1" : "0").utf8), Array(group.utf8)]
        args += safety.removed.map { Array($0.utf8) }
        write(group, RedisScripts.safety,
              keys: [keys.fence(group), keys.safety(group), keys.removed(group), keys.groups],
              args: args, bytes: 0, refusable: false, completion: completion)
    }

    public func dropRoom(group: String) {
        needSnapshot.remove(group)
        write(group, RedisScripts.drop, keys: [keys.fence(group), keys.snapshot(group), keys.events(group),
                                               keys.safety(group), keys.removed(group), keys.groups],
              args: [Array(group.utf8)], bytes: 0, refusable: false)
    }

    public func loadRoom(group: String, completion: @escaping (Result<RestoredRoom?, StoreError>) -> Void) {
        let k = [keys.snapshot(group), keys.events(group), keys.safety(group), keys.removed(group)]
        client.evaluate(RedisScripts.load, keys: k, args: [], retry: true) { [weak self] r in
            guard let self else { return }
            guard case let .success(.array(parts)) = r, parts.count == 4 else {
                return completion(.failure(self.bad(r)))
            }
            completion(.success(RedisRoomStore.room(group, parts)))
        }
    }

    public func listRooms(completion: @escaping (Result<[String], StoreError>) -> Void) {
        client.send("SMEMBERS", keys.groups, retry: true) { [weak self] r in
            guard let self else { return }
            guard case let .success(.array(items)) = r else { return completion(.failure(self.bad(r))) }
            completion(.success(items.compactMap(\.text).sorted()))
        }
    }

    // MARK: Driving

    /// Nothing to do: hiredis sends a turn's commands together when the socket is writable (a pipeline).
    public func flush() {}

    /// The writes queued so far leave now (``RedisClient/flushWrites()``), ahead of what the loop sends next.
    public func flushWrites() { client.flushWrites() }

    /// Runs the completions of writes refused here.
    public func drainCompletions() {
        while !deferred.isEmpty {
            let ready = deferred
            deferred = []
            for completion in ready { completion() }
        }
    }

    public var stats: StoreStats {
        var stats = counters
        stats.queuedWrites = outstandingWrites
        stats.queuedBytes = outstandingBytes
        return stats
    }

    /// `failing` while Redis is unreachable, or since a write got an error reply until one succeeds.
    public var health: StoreHealth {
        if case .failing = client.health { return client.health }
        if let writeError { return .failing(writeError) }
        return .ok
    }

    /// Stops renewing (leases are not released: call `release` first to hand rooms over) and closes the connection
    /// once the writes in flight are answered; writes still waiting for a connection are abandoned. Run the loop
    /// until `client.isClosed` to let the connection's handle close.
    public func close() {
        guard !closed else { return }
        closed = true
        renewTimer.close()
        deferTimer.close()
        lapseTimer.close()
        client.close()
        drainCompletions()
    }

    // MARK: Writes

    /// Sends one fenced write. Refused (false) when this node holds no lease for `group`, or, for `refusable`
    /// writes, when the queue is full.
    @discardableResult
    private func write(_ group: String, _ script: RedisScript, keys: [String], args: [[UInt8]], bytes: Int,
                       refusable: Bool, completion: ((StoreError?) -> Void)? = nil) -> Bool {
        guard !closed else {
            later { completion?(.closed) }
            return false
        }
        guard let fence = leases[group]?.fence else {
            fencedWritesRefused += 1
            later { completion?(RedisRoomStore.notOwner(group)) }
            return false
        }
        if refusable && (outstandingWrites >= configuration.maxQueuedWrites
            || outstandingBytes + bytes > configuration.maxQueuedBytes) {
            counters.writesRefused += 1
            return false
        }
        counters.writesQueued += 1
        outstandingWrites += 1
        outstandingBytes += bytes
        client.evaluate(script, keys: keys, args: [Array(String(fence).utf8)] + args, retry: true) { [weak self] r in
            guard let self else { return }
            self.outstandingWrites -= 1
            self.outstandingBytes -= bytes
            switch r {
            case .success(.integer(1)):
                self.counters.writesCommitted += 1
                self.counters.transactions += 1
                self.counters.bytesCommitted += UInt64(bytes)
                self.writeError = nil
                completion?(nil)
            case .success(.integer(0)):
                self.fencedWritesRefused += 1
                self.lose(group, fence: fence)
                completion?(RedisRoomStore.notOwner(group))
            case .failure(.closed):
                self.counters.writesAbandoned += 1
                completion?(.closed)
            default:
                let error = self.bad(r)
                self.counters.failedBatches += 1
                self.writeError = error
                if refusable { self.needSnapshot.insert(group) }
                completion?(error)
            }
        }
        return true
    }

    private func later(_ completion: @escaping () -> Void) {
        deferred.append(completion)
        if deferred.count == 1 && !closed {
            deferTimer.start(afterMilliseconds: 0) { [weak self] in self?.drainCompletions() }
        }
    }

    /// The error a write gets when this node does not own the room (no lease, or a newer fence in Redis).
    public static func notOwner(_ group: String) -> StoreError {
        .io(path: "redis", code: 0, message: "fenced: this node does not own the room")
    }

    private func bad(_ result: Result<RedisValue, RedisError>) -> StoreError {
        switch result {
        case let .failure(.disconnected(detail)): .io(path: client.endpoint.description, code: 0, message: detail)
        case .failure(.closed): .closed
        case let .failure(.reply(message)), let .success(.error(message)):
            .io(path: client.endpoint.description, code: 0, message: message)
        case .success: .io(path: client.endpoint.description, code: 0, message: "unexpected reply")
        }
    }

    /// Builds a room from the load script's reply.
    private static func room(_ group: String, _ parts: [RedisValue]) -> RestoredRoom? {
        guard case let .array(snapshotFields) = parts[0], case let .array(eventFields) = parts[1],
              case let .array(removedItems) = parts[3] else { return nil }
        var snapshot: RoomSnapshot?
        var fields: [String: RedisValue] = [:]
        for i in stride(from: 0, to: snapshotFields.count - 1, by: 2) {
            if let name = snapshotFields[i].text { fields[name] = snapshotFields[i + 1] }
        }
        if let seq = fields["seq"]?.integerValue, let epoch = fields["epoch"]?.integerValue,
           case let .string(bytes)? = fields["bytes"] {
            snapshot = RoomSnapshot(group: group, seq: UInt64(seq), epoch: UInt64(epoch), bytes: bytes)
        }
        var events: [StoredEvent] = []
        for i in stride(from: 0, to: eventFields.count - 1, by: 2) {
            guard let seq = eventFields[i].text.flatMap({ UInt64($0) }), case let .string(bytes) = eventFields[i + 1],
                  seq > snapshot?.seq ?? 0 else { continue }
            events.append(StoredEvent(seq: seq, bytes: bytes))
        }
        events.sort { $0.seq < $1.seq }
        let locked = parts[2].text ?? ""
        guard snapshot != nil || !events.isEmpty || !locked.isEmpty else { return nil }
        let safety = SafetyState(locked: locked == "1", removed: removedItems.compactMap(\.text).sorted())
        return RestoredRoom(group: group, snapshot: snapshot, events: events, safety: safety)
    }
}
