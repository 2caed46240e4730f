import CircleLoop
import CircleRedis
import CircleStore
import CircleTestSupport
import Testing

/// One Circle node for a test: a Redis room store on a loop the test drives (its own loop, or one it shares).
final class Node: LoopDriver {
    let loop: EventLoop
    let store: RedisRoomStore
    private let ownsLoop: Bool
    /// The groups `onLost` was called for, in order.
    var lost: [String] = []

    init(_ server: RedisServer, id: String, leaseMilliseconds: UInt64 = 10_000,
         replyTimeoutMilliseconds: UInt64 = 5_000, maxQueuedWrites: Int = 100_000, database: Int = 0,
         on shared: Node? = nil) throws {
        if let shared {
            loop = shared.loop
            ownsLoop = false
        } else {
            loop = try EventLoop()
            ownsLoop = true
        }
        var configuration = RedisStoreConfiguration()
        configuration.leaseMilliseconds = leaseMilliseconds
        configuration.client.reconnectMinimumMilliseconds = 20
        configuration.client.reconnectMaximumMilliseconds = 200
        configuration.client.replyTimeoutMilliseconds = replyTimeoutMilliseconds
        configuration.maxQueuedWrites = maxQueuedWrites
        let endpoint = try #require(RedisEndpoint(url: server.url + "/\(database)"))
        store = RedisRoomStore(endpoint: endpoint, node: NodeIdentity(id: id, address: "127.0.0.1:\(id.count)"),
                               loop: loop, configuration: configuration)
        store.onLost = { [unowned self] group in self.lost.append(group) }
        #expect(run { self.store.health == .ok }, "node \(id) connects")
    }

    /// Performs an asynchronous call and runs the loop until its result arrives.
    func wait<T, E: Error>(_ call: (@escaping (Result<T, E>) -> Void) -> Void) throws -> T {
        var result: Result<T, E>?
        call { result = $0 }
        #expect(run { result != nil }, "the call completes")
        return try #require(result).get()
    }

    /// A fenced safety write, waited for; returns its error.
    func putSafety(_ group: String, _ safety: SafetyState) -> StoreError? {
        var done = false
        var error: StoreError?
        store.putSafety(group: group, safety, durable: true) { error = $0; done = true }
        #expect(run { done }, "the safety write completes")
        return error
    }

    /// Runs until every write in flight is answered.
    func settle() {
        #expect(run { self.store.stats.queuedWrites == 0 }, "the writes are answered")
    }

    func claim(_ group: String) throws -> RoomClaim { try wait { store.claim(group: group, completion: $0) } }

    func load(_ group: String) throws -> RestoredRoom? { try wait { store.loadRoom(group: group, completion: $0) } }

    /// Closes the store, lets its connection's handle close, and closes the loop when it is this node's own.
    /// Returns `uv_loop_close`'s result (0: nothing left behind).
    @discardableResult func shutdown() -> Int32 {
        store.close()
        #expect(run { self.store.client.isClosed }, "the connection closes")
        return ownsLoop ? loop.close() : 0
    }
}
