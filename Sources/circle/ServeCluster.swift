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
    let store: SplitGroupStore

    private init(redis: RedisRoomStore, store: SplitGroupStore) {
        self.redis = redis
        self.store = store
    }

    /// Connects to Redis (asynchronously: /readyz answers 503 until it is up) and runs `rooms` as one node of many.
    /// `nodeAddress` and `leaseMilliseconds` come checked from the settings (`node_address`, `lease_ms`).
    static func start(url: String, nodeAddress: String, leaseMilliseconds: UInt64, records: (any GroupStore)?,
                      rooms: RoomService, server: Server) throws -> ServeCluster {
        guard let endpoint = RedisEndpoint(url: url) else { throw ValidationError("--redis: not a redis:// URL") }
        var nodeAddress = nodeAddress
        if nodeAddress.hasSuffix(":0"), let bound = server.listening.first(where: { !$0.isTLS }) {
            nodeAddress = String(nodeAddress.dropLast()) + String(bound.address.port)  // port 0: the one bound
        }
        var configuration = RedisStoreConfiguration()
        configuration.leaseMilliseconds = leaseMilliseconds
        let node = NodeIdentity(id: nodeID(), address: nodeAddress)
        let redis = RedisRoomStore(endpoint: endpoint, node: node, loop: server.loop, configuration: configuration)
        let store = SplitGroupStore(rooms: redis, records: records)
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
