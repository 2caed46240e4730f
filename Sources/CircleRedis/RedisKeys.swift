/// The keys of one group's room state and lease (Docs/STORAGE.md, "Redis"). `{group}` is a hash tag: one group's
/// keys share a slot, so each script touches one slot but for the `groups` set.
public struct RedisKeys: Sendable {
    /// Prepended to every key (default `circle:`), so that several deployments can share one Redis.
    public let prefix: String

    public init(prefix: String = "circle:") { self.prefix = prefix }

    /// Hash: `seq`, `epoch`, `bytes` of the latest snapshot.
    public func snapshot(_ group: String) -> String { "\(prefix){\(group)}:snapshot" }
    /// Hash: event seq (decimal) -> event bytes, for the events after the snapshot.
    public func events(_ group: String) -> String { "\(prefix){\(group)}:events" }
    /// Hash: `locked` ("0" or "1").
    public func safety(_ group: String) -> String { "\(prefix){\(group)}:safety" }
    /// List: the removed subs, in the order written.
    public func removed(_ group: String) -> String { "\(prefix){\(group)}:removed" }
    /// Hash with a PX expiry: `node`, `address`, `fence` of the node that owns the room.
    public func lease(_ group: String) -> String { "\(prefix){\(group)}:lease" }
    /// Integer: the room's latest fence (INCR on each new lease; never reset, outlives the room).
    public func fence(_ group: String) -> String { "\(prefix){\(group)}:fence" }
    /// Set: the groups that hold room state (`listRooms`).
    public var groups: String { "\(prefix)groups" }
}

/// The Lua scripts: each runs atomically in Redis. Every write checks the fence first and returns 0 (nothing
/// written) when the room's fence is not the writer's.
enum RedisScripts {
    /// KEYS lease, fence; ARGV node, address, px. Returns {1, fence} taken, {0, fence} renewed, {2, node, address}.
    static let claim = RedisScript("""
        local holder = redis.call('HGET', KEYS[1], 'node')
        if not holder then
          local fence = redis.call('INCR', KEYS[2])
          redis.call('DEL', KEYS[1])
          redis.call('HSET', KEYS[1], 'node', ARGV[1], 'address', ARGV[2], 'fence', fence)
          redis.call('PEXPIRE', KEYS[1], ARGV[3])
          return {1, fence}
        end
        if holder == ARGV[1] then
          redis.call('PEXPIRE', KEYS[1], ARGV[3])
          return {0, tonumber(redis.call('HGET', KEYS[1], 'fence'))}
        end
        return {2, holder, redis.call('HGET', KEYS[1], 'address') or ''}
        """)

    /// KEYS leases; ARGV node, px, a fence per lease. Returns per lease 1 when renewed, 0 when gone or another's.
    static let renewMany = RedisScript("""
        local renewed = {}
        for i, key in ipairs(KEYS) do
          if redis.call('HGET', key, 'node') == ARGV[1] and redis.call('HGET', key, 'fence') == ARGV[i + 2] then
            redis.call('PEXPIRE', key, ARGV[2])
            renewed[i] = 1
          else
            renewed[i] = 0
          end
        end
        return renewed
        """)

    /// KEYS lease; ARGV fence. Deletes the lease only when it still carries this fence.
    static let release = RedisScript("""
        if redis.call('HGET', KEYS[1], 'fence') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """)

    /// KEYS fence, events, groups; ARGV fence, seq, bytes, group.
    static let append = RedisScript("""
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
        redis.call('SADD', KEYS[3], ARGV[4])
        return 1
        """)

    /// KEYS fence, snapshot, events, groups; ARGV fence, seq, epoch, bytes, group. Drops events at or below seq.
    static let snapshot = RedisScript("""
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        redis.call('HSET', KEYS[2], 'seq', ARGV[2], 'epoch', ARGV[3], 'bytes', ARGV[4])
        local seq = tonumber(ARGV[2])
        for _, field in ipairs(redis.call('HKEYS', KEYS[3])) do
          if tonumber(field) <= seq then redis.call('HDEL', KEYS[3], field) end
        end
        redis.call('SADD', KEYS[4], ARGV[5])
        return 1
        """)

    /// KEYS fence, safety, removed, groups; ARGV fence, locked, group, removed subs...
    static let safety = RedisScript("""
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        redis.call('HSET', KEYS[2], 'locked', ARGV[2])
        redis.call('DEL', KEYS[3])
        for i = 4, #ARGV do redis.call('RPUSH', KEYS[3], ARGV[i]) end
        redis.call('SADD', KEYS[4], ARGV[3])
        return 1
        """)

    /// KEYS fence, snapshot, events, safety, removed, groups; ARGV fence, group. The fence and lease stay.
    static let drop = RedisScript("""
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
        redis.call('SREM', KEYS[6], ARGV[2])
        return 1
        """)

    /// KEYS snapshot, events, safety, removed. Returns {snapshot fields, event fields, locked or '', removed}.
    static let load = RedisScript("""
        return {redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2]),
                redis.call('HGET', KEYS[3], 'locked') or '', redis.call('LRANGE', KEYS[4], 0, -1)}
        """)

    static let all = [claim, renewMany, release, append, snapshot, safety, drop, load]
}
