import CHiredis
import CircleCrypto

/// One Redis reply, copied out of hiredis' reply object before hiredis frees it.
public enum RedisValue: Sendable, Equatable {
    /// A bulk string (binary-safe).
    case string([UInt8])
    /// A status reply (`OK`, `PONG`).
    case status(String)
    case integer(Int64)
    case array([RedisValue])
    case null
    /// An error reply (`NOSCRIPT ...`, `OOM ...`, `ERR ...`).
    case error(String)

    init(_ reply: UnsafeMutablePointer<redisReply>) {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING: self = .string(RedisValue.bytes(r.str, r.len))
        case REDIS_REPLY_STATUS: self = .status(String(decoding: RedisValue.bytes(r.str, r.len), as: UTF8.self))
        case REDIS_REPLY_ERROR: self = .error(String(decoding: RedisValue.bytes(r.str, r.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER: self = .integer(Int64(r.integer))
        case REDIS_REPLY_ARRAY:
            var items: [RedisValue] = []
            items.reserveCapacity(r.elements)
            for i in 0..<r.elements {
                if let item = r.element[i] { items.append(RedisValue(item)) } else { items.append(.null) }
            }
            self = .array(items)
        default: self = .null
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ count: Int) -> [UInt8] {
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// The integer of an integer reply, or of a bulk string holding a decimal number.
    public var integerValue: Int64? {
        switch self {
        case let .integer(value): value
        case let .string(bytes): Int64(String(decoding: bytes, as: UTF8.self))
        default: nil
        }
    }

    /// The text of a bulk string or status reply.
    public var text: String? {
        switch self {
        case let .string(bytes): String(decoding: bytes, as: UTF8.self)
        case let .status(text): text
        default: nil
        }
    }
}

/// Why a command got no reply, or an error reply.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The connection is down (or went down before the reply came): the command may or may not have run.
    case disconnected(String)
    /// Redis answered with an error.
    case reply(String)
    /// The client was closed.
    case closed

    public var description: String {
        switch self {
        case let .disconnected(detail): "redis disconnected: \(detail)"
        case let .reply(message): "redis error: \(message)"
        case .closed: "redis client closed"
        }
    }
}

/// A Lua script run with EVALSHA (its SHA-1 computed here); the client loads it on every connection and falls back
/// to EVAL when Redis answers NOSCRIPT.
public struct RedisScript: Sendable, Hashable {
    public let source: String
    /// Lowercase hex SHA-1 of `source`, as SCRIPT LOAD returns it.
    public let sha: String

    public init(_ source: String) {
        self.source = source
        let hex: [Character] = Array("0123456789abcdef")
        sha = String(Crypto.sha1(Array(source.utf8)).flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] })
    }
}

/// Where Redis is: parsed from `redis://HOST:PORT[/DB]` (HOST an IP address or a name in /etc/hosts: hiredis
/// resolves names with a blocking lookup at each connect).
public struct RedisEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int32
    public var database: Int

    public init(host: String, port: Int32, database: Int = 0) {
        self.host = host
        self.port = port
        self.database = database
    }

    /// Parses `redis://HOST:PORT[/DB]`; nil for anything else.
    public init?(url: String) {
        guard url.hasPrefix("redis://") else { return nil }
        var rest = Substring(url.dropFirst("redis://".count))
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            if !db.isEmpty {
                guard let n = Int(db), n >= 0 else { return nil }
                database = n
            }
            rest = rest[..<slash]
        }
        guard let colon = rest.lastIndex(of: ":"), let port = Int32(rest[rest.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        var host = rest[..<colon]
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { return nil }
        self.init(host: String(host), port: port, database: database)
    }

    public var description: String { "redis://\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)" }
}
