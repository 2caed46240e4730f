import CircleLoop
import CircleRedis
import CircleStore
import CircleTestSupport
import Testing

/// The Redis room store against a real redis-server (AOF on): room state, leases, fencing, a Redis crash.
@Suite struct RedisStoreTests {
    @Test func endpointsParse() {
        #expect(RedisEndpoint(url: "redis://127.0.0.1:6379") == RedisEndpoint(host: "127.0.0.1", port: 6379))
        #expect(RedisEndpoint(url: "redis://[::1]:7000/3") == RedisEndpoint(host: "::1", port: 7000, database: 3))
        #expect(RedisEndpoint(url: "redis://h:0") == nil)
        #expect(RedisEndpoint(url: "http://h:1") == nil)
        #expect(RedisEndpoint(url: "redis://h:1/x") == nil)
    }

    @Test func snapshotEventsAndSafetyRoundTripAndCompact() throws {
        let server = try RedisServer()
        let a = try Node(server, id: "a")
        defer { #expect(a.shutdown() == 0) }
        #expect(try a.load("g") == nil)
        #expect(try a.claim("g") == .owned(fence: 1, taken: true))
        let bytes: [UInt8] = [0, 1, 0xff, 10, 13]  // binary-safe
        #expect(a.putSafety("g", SafetyState(locked: true, removed: ["z", "x\ny"])) == nil)
        #expect(a.store.putSnapshot(RoomSnapshot(group: "g", seq: 3, epoch: 7, bytes: bytes)))
        for seq in 4...6 { #expect(a.store.appendEvent(group: "g", seq: UInt64(seq), bytes: [UInt8(seq), 0])) }
        a.settle()
        var room = try #require(try a.load("g"))
        #expect(room.snapshot == RoomSnapshot(group: "g", seq: 3, epoch: 7, bytes: bytes))
        #expect(room.events.map(\.seq) == [4, 5, 6])
        #expect(room.events[0].bytes == [4, 0])
        #expect(room.safety == SafetyState(locked: true, removed: ["x\ny", "z"]))
        #expect(try a.wait { a.store.listRooms(completion: $0) } == ["g"])

        // A snapshot at seq 5 drops events 4 and 5 from Redis itself.
        #expect(a.store.putSnapshot(RoomSnapshot(group: "g", seq: 5, epoch: 7, bytes: [5])))
        a.settle()
        room = try #require(try a.load("g"))
        #expect(room.snapshot?.seq == 5)
        #expect(room.events == [StoredEvent(seq: 6, bytes: [6, 0])])
        let fields = try a.wait { a.store.client.send("HLEN", a.store.keys.events("g"), completion: $0) }
        #expect(fields == .integer(1))

        // Dropping the room leaves nothing but the fence (and the lease, until released).
        a.store.dropRoom(group: "g")
        a.settle()
        #expect(try a.load("g") == nil)
        #expect(try a.wait { a.store.listRooms(completion: $0) } == [])
        #expect(a.store.stats.writesCommitted == 7)
        #expect(a.store.fencedWritesRefused == 0)
        #expect(a.lost.isEmpty)
    }

    @Test func claimRenewAndRelease() throws {
        let server = try RedisServer()
        let lease = TestTime.milliseconds(300)
        let a = try Node(server, id: "a", leaseMilliseconds: lease)
        let b = try Node(server, id: "b", leaseMilliseconds: lease, on: a)
        defer {
            b.shutdown()
            #expect(a.shutdown() == 0)
        }
        #expect(try a.claim("g") == .owned(fence: 1, taken: true))
        #expect(try a.claim("g") == .owned(fence: 1, taken: false))
        // Renewals every third of the lease keep it well past its length.
        a.run(milliseconds: 3 * lease)
        #expect(a.store.holdsLease(group: "g"))
        #expect(a.lost.isEmpty)
        #expect(try b.claim("g") == .ownedBy(a.store.node))
        let held = try b.wait { b.store.holder(group: "g", completion: $0) }
        #expect(held?.0 == a.store.node && held?.1 == 1)
        #expect(try b.wait { b.store.holder(group: "free", completion: $0) } == nil)
        // The completion says Redis has run the release (B's claim goes on another connection: no order).
        #expect(try a.wait { a.store.release(group: "g", fence: 1, completion: $0) } == true)
        #expect(!a.store.holdsLease(group: "g"))
        #expect(try b.claim("g") == .owned(fence: 2, taken: true))
        // A stale release is a no-op; A's writes are refused here, without asking Redis.
        #expect(try a.wait { a.store.release(group: "g", fence: 1, completion: $0) } == false)
        #expect(!a.store.putSnapshot(RoomSnapshot(group: "g", seq: 1, epoch: 1, bytes: [1])))
        var error: StoreError?
        var done = false
        a.store.putSafety(group: "g", SafetyState(locked: true), durable: true) { error = $0; done = true }
        #expect(!done, "a refused write completes later, not inside the call")
        #expect(a.run { done })
        #expect(error != nil)
        #expect(a.store.fencedWritesRefused == 2)
        #expect(try a.claim("g") == .ownedBy(b.store.node))
        b.run(milliseconds: 2 * lease)
        #expect(b.store.holdsLease(group: "g"))
        #expect(b.lost.isEmpty)
    }

    @Test func aPausedOwnerIsFencedOutAfterATakeover() throws {
        let server = try RedisServer()
        // Two processes: two loops. A's loop is not driven while it is "paused" (like SIGSTOP).
        let lease = TestTime.milliseconds(300)
        let a = try Node(server, id: "a", leaseMilliseconds: lease)
        let b = try Node(server, id: "b", leaseMilliseconds: 20 * lease)
        let c = try Node(server, id: "c", leaseMilliseconds: 20 * lease, on: b)
        defer {
            c.shutdown()
            #expect(b.shutdown() == 0)
            #expect(a.shutdown() == 0)
        }
        #expect(try a.claim("g") == .owned(fence: 1, taken: true))
        #expect(a.store.putSnapshot(RoomSnapshot(group: "g", seq: 1, epoch: 1, bytes: [0xa])))
        a.settle()
        #expect(try b.claim("g") == .ownedBy(a.store.node), "the lease is live")

        // A pauses. Its own clock says the lease is gone before any reply from Redis.
        b.run(milliseconds: lease * 3 / 2)
        #expect(!a.store.holdsLease(group: "g"))
        #expect(try b.claim("g") == .owned(fence: 2, taken: true))
        #expect(b.store.putSnapshot(RoomSnapshot(group: "g", seq: 9, epoch: 2, bytes: [0xb])))
        #expect(b.store.appendEvent(group: "g", seq: 10, bytes: [0xb, 10]))
        b.settle()
        #expect(try c.claim("g") == .ownedBy(b.store.node), "a third node sees B")

        // A wakes up and writes with its old fence: Redis refuses it.
        #expect(a.store.appendEvent(group: "g", seq: 2, bytes: [0xa, 2]), "sent: A still has the lease locally")
        #expect(a.run { a.store.fencedWritesRefused == 1 })
        #expect(a.lost == ["g"])
        a.store.dropRoom(group: "g")  // refused here now: A holds no lease
        #expect(a.store.fencedWritesRefused == 2)
        #expect(a.lost == ["g"], "onLost runs once")
        let room = try #require(try b.load("g"))
        #expect(room.snapshot == RoomSnapshot(group: "g", seq: 9, epoch: 2, bytes: [0xb]))
        #expect(room.events == [StoredEvent(seq: 10, bytes: [0xb, 10])])
        #expect(b.store.fencedWritesRefused == 0)
        #expect(b.lost.isEmpty)
    }

    @Test func leasesRenewTogetherAndALapsedOnesLastWriteLandsUnlessTheRoomWasTaken() throws {
        let server = try RedisServer()
        let lease = TestTime.milliseconds(300)
        let a = try Node(server, id: "a", leaseMilliseconds: lease)
        let b = try Node(server, id: "b", leaseMilliseconds: 20 * lease)
        defer {
            #expect(b.shutdown() == 0)
            #expect(a.shutdown() == 0)
        }
        for g in ["g1", "g2", "g3", "g4"] { #expect(try a.claim(g) == .owned(fence: 1, taken: true)) }
        // One script call renews them all; one whose lease another node took is lost, the others stay.
        a.run(milliseconds: 3 * lease)
        #expect(["g1", "g2", "g3", "g4"].allSatisfy { a.store.holdsLease(group: $0) })
        _ = try a.wait { a.store.client.send("DEL", a.store.keys.lease("g2"), completion: $0) }
        #expect(try b.claim("g2") == .owned(fence: 2, taken: true))
        #expect(a.run { a.lost == ["g2"] })
        #expect(["g1", "g3", "g4"].allSatisfy { a.store.holdsLease(group: $0) })

        // A's loop stalls past the lease (not driven: a paused process); meanwhile B takes g3, not g1 or g4.
        // When A runs again, its own clock loses g1, g3 and g4, and each room's last write goes out under its fence
        // from `onLost`: g1's and g4's land (nobody claimed them), g3's is refused.
        var lastWrites: [String: Bool] = [:]
        a.store.onLost = { [unowned a] group in
            a.lost.append(group)
            lastWrites[group] = a.store.putSnapshot(RoomSnapshot(group: group, seq: 5, epoch: 1, bytes: [5]))
        }
        b.run(milliseconds: lease * 3 / 2)
        #expect(try b.claim("g3") == .owned(fence: 2, taken: true))
        #expect(a.run { a.lost.count == 4 })
        #expect(Set(a.lost.suffix(3)) == ["g1", "g3", "g4"])
        #expect(lastWrites == ["g1": true, "g3": true, "g4": true], "sent under the old fence")
        #expect(a.run { a.store.fencedWritesRefused == 1 })
        a.settle()
        #expect(a.store.heldGroups.isEmpty)
        for g in ["g1", "g4"] {
            #expect(try b.load(g)?.snapshot == RoomSnapshot(group: g, seq: 5, epoch: 1, bytes: [5]), "\(g)")
        }
        #expect(try b.load("g3")?.snapshot == nil, "the new owner's room is untouched")
        #expect(try b.claim("g1") == .owned(fence: 2, taken: true))
    }

    @Test func aRedisCrashFailsHealthUntilItIsBackAndWritesResume() throws {
        // `always`: with `everysec`, Redis may answer a write whose AOF write() it postponed behind a slow background
        // fsync (a loaded machine), and a SIGKILL then loses it (Docs/STORAGE.md). This test is about the client.
        let server = try RedisServer(arguments: ["--appendfsync", "always"])
        let a = try Node(server, id: "a", leaseMilliseconds: 10_000)
        defer { #expect(a.shutdown() == 0) }
        #expect(try a.claim("g") == .owned(fence: 1, taken: true))
        #expect(a.store.putSnapshot(RoomSnapshot(group: "g", seq: 1, epoch: 1, bytes: [1])))
        a.settle()
        let connects = a.store.client.connects

        server.kill()
        #expect(a.run { a.store.health != .ok }, "health fails while Redis is down")
        // Writes made while Redis is down wait, in order, for the connection.
        #expect(a.store.appendEvent(group: "g", seq: 2, bytes: [2]))
        #expect(a.store.appendEvent(group: "g", seq: 3, bytes: [3]))
        a.run(milliseconds: 100)
        #expect(a.store.health != .ok)
        #expect(a.store.stats.queuedWrites == 2)

        try server.start()  // reloads its AOF: the fence, lease and room survived the kill
        #expect(a.run { a.store.health == .ok && a.store.stats.queuedWrites == 0 })
        #expect(a.store.client.connects == connects + 1)
        let room = try #require(try a.load("g"))
        #expect(room.snapshot?.seq == 1)
        #expect(room.events.map(\.seq) == [2, 3])
        #expect(a.store.fencedWritesRefused == 0)
        #expect(a.lost.isEmpty)
        #expect(try a.claim("g") == .owned(fence: 1, taken: false))
    }

    @Test func writesWaitWhileRedisLoadsItsAOF() throws {
        let server = try RedisServer()
        let a = try Node(server, id: "a")
        defer { #expect(a.shutdown() == 0) }
        #expect(try a.claim("g") == .owned(fence: 1, taken: true))
        // 2,000 keys in the AOF's RDB base, loaded at 500 µs each after the restart: about a second of -LOADING.
        let fill = "for i = 1, 2000 do redis.call('SET', 'fill:' .. i, i) end return 1"
        #expect(try a.wait { a.store.client.send("EVAL", fill, "0", completion: $0) } == .integer(1))
        _ = try a.wait { a.store.client.send("BGREWRITEAOF", completion: $0) }
        var rewritten = false
        for _ in 0..<250 where !rewritten {
            let info = try a.wait { a.store.client.send("INFO", "persistence", completion: $0) }.text ?? ""
            rewritten = info.contains("aof_rewrite_in_progress:0") && info.contains("aof_rewrite_scheduled:0")
                && info.contains("aof_last_bgrewrite_status:ok")
            if !rewritten { a.run(milliseconds: 20) }
        }
        #expect(rewritten)
        server.kill()
        #expect(a.run { a.store.health != .ok })
        #expect(a.store.putSnapshot(RoomSnapshot(group: "g", seq: 1, epoch: 1, bytes: [1])))
        try server.start(["--key-load-delay", "500", "--loading-process-events-interval-bytes", "1024"], wait: false)
        #expect(!RedisServer.ping(port: server.port), "Redis is loading")
        #expect(a.run { a.store.health == .ok && a.store.stats.queuedWrites == 0 })
        #expect(a.store.stats.failedBatches == 0, "no write met -LOADING")
        #expect(try a.load("g")?.snapshot?.seq == 1)
        #expect(a.lost.isEmpty)
    }

    @Test func aHungRedisDropsTheConnectionAndWritesResume() throws {
        let server = try RedisServer()
        let a = try Node(server, id: "a", replyTimeoutMilliseconds: TestTime.milliseconds(300))
        defer {
            server.resume()
            #expect(a.shutdown() == 0)
        }
        #expect(try a.claim("g") == .owned(fence: 1, taken: true))
        server.pause()  // SIGSTOP: connections stay open, nothing is answered
        #expect(a.store.putSnapshot(RoomSnapshot(group: "g", seq: 1, epoch: 1, bytes: [1])))
        #expect(a.run { a.store.health != .ok }, "an unanswered write fails health")
        a.run(milliseconds: 3 * TestTime.milliseconds(300))
        #expect(a.store.health != .ok, "reconnects to a paused Redis are not healthy")
        #expect(a.store.stats.queuedWrites == 1)
        server.resume()
        #expect(a.run { a.store.health == .ok && a.store.stats.queuedWrites == 0 })
        #expect(try a.load("g")?.snapshot?.seq == 1)
        #expect(a.store.stats.failedBatches == 0)
        #expect(a.lost.isEmpty)
    }

    @Test func aTurnsWritesArePipelinedAndLandInOrder() throws {
        let server = try RedisServer()
        let a = try Node(server, id: "a")
        defer { #expect(a.shutdown() == 0) }
        #expect(try a.claim("g") == .owned(fence: 1, taken: true))
        let event = [UInt8](repeating: 0x61, count: 200)
        let start = EventLoop.hrtime
        for turn in 0..<20 {
            for i in 1...1_000 {
                #expect(a.store.appendEvent(group: "g", seq: UInt64(turn * 1_000 + i), bytes: event))
            }
            a.loop.runOnce(wait: false)
        }
        a.settle()
        let elapsed = Double(EventLoop.hrtime - start) / 1e9
        print("redis: 20,000 fenced 200-byte events acknowledged in \(elapsed) s")
        let room = try #require(try a.load("g"))
        #expect(room.events.count == 20_000)
        #expect(room.events.map(\.seq) == (1...20_000).map { UInt64($0) })
        #expect(a.store.stats.writesCommitted == 20_000)
        #expect(a.store.stats.bytesCommitted == 20_000 * 200)
    }

    @Test func aFullQueueRefusesEventsUntilTheNextSnapshot() throws {
        let server = try RedisServer()
        let a = try Node(server, id: "a", maxQueuedWrites: 3)
        defer { #expect(a.shutdown() == 0) }
        #expect(try a.claim("g") == .owned(fence: 1, taken: true))
        server.kill()
        #expect(a.run { a.store.health != .ok })
        for seq in 1...3 { #expect(a.store.appendEvent(group: "g", seq: UInt64(seq), bytes: [1])) }
        #expect(!a.store.appendEvent(group: "g", seq: 4, bytes: [1]), "the queue is full")
        try server.start()
        #expect(a.run { a.store.health == .ok && a.store.stats.queuedWrites == 0 })
        #expect(!a.store.appendEvent(group: "g", seq: 5, bytes: [1]), "no gap: events wait for a snapshot")
        #expect(a.store.putSnapshot(RoomSnapshot(group: "g", seq: 5, epoch: 2, bytes: [5])))
        #expect(a.store.appendEvent(group: "g", seq: 6, bytes: [6]))
        a.settle()
        let room = try #require(try a.load("g"))
        #expect(room.snapshot?.seq == 5)
        #expect(room.events.map(\.seq) == [6])
        #expect(a.store.stats.writesRefused == 2)
    }

    @Test func theURLsDatabaseIsUsed() throws {
        let server = try RedisServer()
        let a = try Node(server, id: "a", database: 2)
        let zero = try Node(server, id: "z", on: a)
        defer {
            zero.shutdown()
            #expect(a.shutdown() == 0)
        }
        #expect(try a.claim("g") == .owned(fence: 1, taken: true))
        #expect(try a.wait { a.store.client.send("DBSIZE", completion: $0) } == .integer(2))  // lease and fence
        #expect(try zero.wait { zero.store.client.send("DBSIZE", completion: $0) } == .integer(0))
    }

    @Test func evalFallsBackWhenRedisForgotTheScripts() throws {
        let server = try RedisServer()
        let a = try Node(server, id: "a")
        defer { #expect(a.shutdown() == 0) }
        #expect(try a.claim("g") == .owned(fence: 1, taken: true))
        #expect(try a.wait { a.store.client.send("SCRIPT", "FLUSH", completion: $0) } == .status("OK"))
        #expect(a.store.putSnapshot(RoomSnapshot(group: "g", seq: 1, epoch: 1, bytes: [1])))
        a.settle()
        #expect(try a.load("g")?.snapshot?.seq == 1)
        #expect(a.store.stats.failedBatches == 0)
    }
}
