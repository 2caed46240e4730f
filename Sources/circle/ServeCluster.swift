import ArgumentParser
import CircleLoop
import CircleRedis
import CircleRooms
import CircleServer
import CircleStore
import Glibc
import Logging

extension RedisRoomStore: RoomLeases {}

/// `circle serve --redis`: room state and ownership in Redis (shared by every node), records in the records store
/// (`--data-dir`'s SQLite, or none). See Docs/SCALING.md.
final class ServeCluster {
    let redis: RedisRoomStore
    let store: CompositeStore

    private init(redis: RedisRoomStore, store: CompositeStore) {
        self.redis = redis
        self.store = store
    }

    /// Connects to Redis (asynchronously: /readyz answers 503 until it is up) and runs `rooms` as one node of many.
    static func start(url: String, nodeAddress: String, leaseMilliseconds: UInt64, records: (any GroupStore)?,
                      rooms: RoomService, server: Server) throws -> ServeCluster {
        guard let endpoint = RedisEndpoint(url: url) else { throw ValidationError("--redis: not a redis:// URL") }
        guard let colon = nodeAddress.lastIndex(of: ":"), Int(nodeAddress[nodeAddress.index(after: colon)...]) != nil
        else {
            throw ValidationError("--node-address must be HOST:PORT (where the other nodes reach this one)")
        }
        guard leaseMilliseconds >= 300 else { throw ValidationError("--lease-ms must be 300 or more") }
        var nodeAddress = nodeAddress
        if nodeAddress.hasSuffix(":0"), let bound = server.listening.first(where: { !$0.isTLS }) {
            nodeAddress = String(nodeAddress.dropLast()) + String(bound.address.port)  // port 0: the one bound
        }
        var configuration = RedisStoreConfiguration()
        configuration.leaseMilliseconds = leaseMilliseconds
        let node = NodeIdentity(id: nodeID(), address: nodeAddress)
        let redis = RedisRoomStore(endpoint: endpoint, node: node, loop: server.loop, configuration: configuration)
        let store = CompositeStore(rooms: redis, records: records)
        rooms.useCluster(store: store, leases: redis)
        let cluster = ServeCluster(redis: redis, store: store)
        let previous = server.onStopped
        server.onStopped = { [unowned cluster, unowned rooms, unowned server] in
            previous?()
            server.logger.info("cluster node stopped", metadata: [
                "fenced_writes_refused": "\(cluster.redis.fencedWritesRefused)",
                "rooms_lost": "\(rooms.clusterCounts.lost)", "relays": "\(rooms.clusterCounts.relays)",
            ])
            // The final snapshots and the releases are on their way: Redis closes once they are answered.
            cluster.redis.close()
        }
        server.logger.info("cluster node", metadata: [
            "node": "\(node.id)", "address": "\(nodeAddress)", "redis": "\(endpoint)",
            "lease_ms": "\(leaseMilliseconds)",
        ])
        return cluster
    }

    /// Unique per process: the host name, the pid and random bits (a restarted node is a new node).
    private static func nodeID() -> String {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(host)-\(getpid())-\(String(UInt32.random(in: 0 ... .max), radix: 16))"
    }
}

/// The room-state half from one store (Redis), the records half from another (or none): each call goes to its
/// half; flush, completions, stats, health and close cover both.
final class CompositeStore: GroupStore {
    let rooms: RedisRoomStore
    let records: (any GroupStore)?

    init(rooms: RedisRoomStore, records: (any GroupStore)?) {
        self.rooms = rooms
        self.records = records
    }

    // MARK: Room state

    func appendEvent(group: String, seq: UInt64, bytes: [UInt8]) -> Bool {
        rooms.appendEvent(group: group, seq: seq, bytes: bytes)
    }
    func putSnapshot(_ snapshot: RoomSnapshot) -> Bool { rooms.putSnapshot(snapshot) }
    func putSafety(group: String, _ safety: SafetyState, durable: Bool, completion: ((StoreError?) -> Void)?) {
        rooms.putSafety(group: group, safety, durable: durable, completion: completion)
    }
    func dropRoom(group: String) { rooms.dropRoom(group: group) }
    func loadRoom(group: String, completion: @escaping (Result<RestoredRoom?, StoreError>) -> Void) {
        rooms.loadRoom(group: group, completion: completion)
    }
    func listRooms(completion: @escaping (Result<[String], StoreError>) -> Void) {
        rooms.listRooms(completion: completion)
    }

    // MARK: Records

    private static let noRecords = StoreError.closed

    func openSession(group: String, openedAt: Int64, completion: @escaping (Result<Int, StoreError>) -> Void) {
        guard let records else { return completion(.failure(Self.noRecords)) }
        records.openSession(group: group, openedAt: openedAt, completion: completion)
    }
    func closeSession(group: String, number: Int, closedAt: Int64, completion: ((StoreError?) -> Void)?) {
        guard let records else { return completion?(Self.noRecords) ?? () }
        records.closeSession(group: group, number: number, closedAt: closedAt, completion: completion)
    }
    func putAttendance(_ record: AttendanceRecord) -> Bool { records?.putAttendance(record) ?? false }
    func sessions(group: String, completion: @escaping (Result<[SessionRecord], StoreError>) -> Void) {
        guard let records else { return completion(.failure(Self.noRecords)) }
        records.sessions(group: group, completion: completion)
    }
    func attendance(group: String, sub: String?,
                    completion: @escaping (Result<[AttendanceRecord], StoreError>) -> Void) {
        guard let records else { return completion(.failure(Self.noRecords)) }
        records.attendance(group: group, sub: sub, completion: completion)
    }
    func deleteRecords(before cutoff: Int64, completion: @escaping (Result<Int, StoreError>) -> Void) {
        guard let records else { return completion(.failure(Self.noRecords)) }
        records.deleteRecords(before: cutoff, completion: completion)
    }
    func erase(group: String, sub: String, completion: @escaping (Result<Int, StoreError>) -> Void) {
        guard let records else { return completion(.failure(Self.noRecords)) }
        records.erase(group: group, sub: sub, completion: completion)
    }

    // MARK: Both

    func flush() {
        rooms.flush()
        records?.flush()
    }
    func drainCompletions() {
        rooms.drainCompletions()
        records?.drainCompletions()
    }
    var stats: StoreStats { rooms.stats }
    var health: StoreHealth {
        if case .failing = rooms.health { return rooms.health }
        return records?.health ?? .ok
    }
    func close() {
        rooms.close()
        records?.close()
    }
}
