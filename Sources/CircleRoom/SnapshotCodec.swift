/// A compact binary form of the engine's `Codable` state, so a room's snapshot is the same value the engine runs on
/// (no second description of the state to keep in step with it).
///
/// The value is written as its synthesized `Codable` conformance encodes it (a tag byte, then varints, strings and
/// nested values), by the hand-written ``SnapshotWriter`` (the `Codable` encoder was a fifth of a store-on server's
/// CPU; it is the tests' oracle now, in Tests/CircleRoomTestSupport). Object keys are numbers into a table of key
/// names written once at the start, in first-met order. The bytes are read back as a tree, through `Codable`. Every
/// `Instant` is written as a wall-clock time (nanoseconds since the Unix epoch, signed) through ``InstantRebase``,
/// and read back onto the reading process's monotonic clock.
enum SnapshotNode {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case string(String)
    case array([SnapshotNode])
    case object([(key: String, value: SnapshotNode)])
}

/// Moves instants between a monotonic clock and the wall clock: `wall = wallNow + (instant - now)`.
public struct InstantRebase: Sendable, Equatable {
    /// The monotonic instant that corresponds to `wallNanoseconds`.
    public var now: Instant
    /// Nanoseconds since the Unix epoch at `now`.
    public var wallNanoseconds: Int64

    public init(now: Instant, wallNanoseconds: Int64) {
        self.now = now
        self.wallNanoseconds = wallNanoseconds
    }

    func wall(_ instant: Instant) -> Int64 {
        wallNanoseconds &+ (Int64(bitPattern: instant.nanoseconds) &- Int64(bitPattern: now.nanoseconds))
    }

    func instant(_ wall: Int64) -> Instant {
        let value = Int64(bitPattern: now.nanoseconds) &+ (wall &- wallNanoseconds)
        return Instant(nanoseconds: UInt64(max(0, value)))
    }
}

/// Why a snapshot could not be read.
public struct SnapshotError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Bytes

/// Layout: the key table (a count, then each key), then the root value. A value is a tag byte: 0 null, 1 false,
/// 2 true, 3 a zigzag varint, 4 a varint, 5 a string (length, UTF-8), 6 an array (values, then tag 8), 7 an object
/// (key number + 1 and value pairs, then 0).
struct SnapshotBytes {
    static let endOfArray: UInt8 = 8

    static func read<T: Decodable>(_ type: T.Type, from bytes: [UInt8], at offset: inout Int,
                                   rebase: InstantRebase) throws -> T {
        var reader = Reader(bytes: bytes, offset: offset)
        let count = try reader.varint()
        guard count < 10_000 else { throw SnapshotError("too many keys") }
        var table: [String] = []
        for _ in 0..<count { table.append(try reader.string()) }
        let root = try reader.node(table, depth: 0)
        offset = reader.offset
        return try T(from: TreeDecoder(node: root, rebase: rebase, path: []))
    }

    static func putVarint(_ value: UInt64, _ out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    static func putString(_ s: String, _ out: inout [UInt8]) {
        putVarint(UInt64(s.utf8.count), &out)
        out.append(contentsOf: s.utf8)
    }

    struct Reader {
        let bytes: [UInt8]
        var offset: Int

        mutating func byte() throws -> UInt8 {
            guard offset < bytes.count else { throw SnapshotError("truncated") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func varint() throws -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let b = try byte()
                guard shift < 64 else { throw SnapshotError("bad varint") }
                value |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return value }
                shift += 7
            }
        }

        mutating func string() throws -> String {
            let n = Int(clamping: try varint())
            guard n <= bytes.count - offset else { throw SnapshotError("truncated string") }
            defer { offset += n }
            return String(decoding: bytes[offset..<offset + n], as: UTF8.self)
        }

        mutating func node(_ table: [String], depth: Int) throws -> SnapshotNode {
            guard depth < 64 else { throw SnapshotError("too deep") }
            switch try byte() {
            case 0: return .null
            case 1: return .bool(false)
            case 2: return .bool(true)
            case 3:
                let z = try varint()
                return .int(Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1))))
            case 4: return .uint(try varint())
            case 5: return .string(try string())
            case 6:
                var items: [SnapshotNode] = []
                while true {
                    guard offset < bytes.count else { throw SnapshotError("truncated array") }
                    if bytes[offset] == SnapshotBytes.endOfArray {
                        offset += 1
                        return .array(items)
                    }
                    items.append(try node(table, depth: depth + 1))
                }
            case 7:
                var members: [(key: String, value: SnapshotNode)] = []
                while true {
                    let k = Int(clamping: try varint())
                    if k == 0 { return .object(members) }
                    guard k <= table.count else { throw SnapshotError("bad key") }
                    members.append((table[k - 1], try node(table, depth: depth + 1)))
                }
            default: throw SnapshotError("bad tag")
            }
        }
    }
}

// MARK: - Decoder

struct TreeDecoder: Decoder {
    let node: SnapshotNode
    let rebase: InstantRebase
    let path: [String]
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = node else { throw SnapshotError("expected an object at \(path)") }
        var table: [String: SnapshotNode] = [:]
        for member in members { table[member.key] = member.value }
        return KeyedDecodingContainer(KeyedReader<Key>(members: table, order: members.map(\.key), rebase: rebase,
                                                       path: path))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = node else { throw SnapshotError("expected an array at \(path)") }
        return UnkeyedReader(items: items, rebase: rebase, path: path)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleReader(node: node, rebase: rebase, path: path)
    }

    static func value<T: Decodable>(_ type: T.Type, _ node: SnapshotNode, _ rebase: InstantRebase,
                                    _ path: [String]) throws -> T {
        if type == Instant.self {
            guard case .int(let wall) = node else { throw SnapshotError("expected an instant at \(path)") }
            return rebase.instant(wall) as! T
        }
        if type == String.self {
            guard case .string(let s) = node else { throw SnapshotError("expected a string at \(path)") }
            return s as! T
        }
        return try T(from: TreeDecoder(node: node, rebase: rebase, path: path))
    }

    static func integer<T: FixedWidthInteger>(_ node: SnapshotNode, _ path: [String]) throws -> T {
        switch node {
        case .int(let v): if let r = T(exactly: v) { return r }
        case .uint(let v): if let r = T(exactly: v) { return r }
        default: break
        }
        throw SnapshotError("expected an integer at \(path)")
    }

    static func bool(_ node: SnapshotNode, _ path: [String]) throws -> Bool {
        guard case .bool(let b) = node else { throw SnapshotError("expected a bool at \(path)") }
        return b
    }
}

private struct KeyedReader<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: SnapshotNode]
    let order: [String]
    let rebase: InstantRebase
    let path: [String]
    var codingPath: [any CodingKey] { [] }
    var allKeys: [Key] { order.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    private func node(_ key: Key) throws -> SnapshotNode {
        guard let node = members[key.stringValue] else {
            throw SnapshotError("missing \(key.stringValue) at \(path)")
        }
        return node
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        if case .null = try node(key) { return true }
        return false
    }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try TreeDecoder.bool(node(key), path) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        try TreeDecoder.value(String.self, node(key), rebase, path + [key.stringValue])
    }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { throw SnapshotError("no floating point") }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { throw SnapshotError("no floating point") }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try TreeDecoder.integer(node(key), path) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try TreeDecoder.integer(node(key), path) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try TreeDecoder.integer(node(key), path) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try TreeDecoder.integer(node(key), path) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try TreeDecoder.integer(node(key), path) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try TreeDecoder.integer(node(key), path) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try TreeDecoder.integer(node(key), path) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try TreeDecoder.integer(node(key), path) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try TreeDecoder.integer(node(key), path) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try TreeDecoder.integer(node(key), path) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try TreeDecoder.value(type, node(key), rebase, path + [key.stringValue])
    }
    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try TreeDecoder(node: node(key), rebase: rebase, path: path + [key.stringValue]).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try TreeDecoder(node: node(key), rebase: rebase, path: path + [key.stringValue]).unkeyedContainer()
    }
    func superDecoder() throws -> any Decoder { TreeDecoder(node: .null, rebase: rebase, path: path) }
    func superDecoder(forKey key: Key) throws -> any Decoder {
        TreeDecoder(node: try node(key), rebase: rebase, path: path)
    }
}

private struct UnkeyedReader: UnkeyedDecodingContainer {
    let items: [SnapshotNode]
    let rebase: InstantRebase
    let path: [String]
    var codingPath: [any CodingKey] { [] }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }
    var currentIndex = 0

    init(items: [SnapshotNode], rebase: InstantRebase, path: [String]) {
        self.items = items
        self.rebase = rebase
        self.path = path
    }

    private mutating func next() throws -> SnapshotNode {
        guard currentIndex < items.count else { throw SnapshotError("array too short at \(path)") }
        defer { currentIndex += 1 }
        return items[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard currentIndex < items.count else { throw SnapshotError("array too short at \(path)") }
        if case .null = items[currentIndex] {
            currentIndex += 1
            return true
        }
        return false
    }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try TreeDecoder.bool(next(), path) }
    mutating func decode(_ type: String.Type) throws -> String {
        try TreeDecoder.value(String.self, next(), rebase, path)
    }
    mutating func decode(_ type: Double.Type) throws -> Double { throw SnapshotError("no floating point") }
    mutating func decode(_ type: Float.Type) throws -> Float { throw SnapshotError("no floating point") }
    mutating func decode(_ type: Int.Type) throws -> Int { try TreeDecoder.integer(next(), path) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try TreeDecoder.integer(next(), path) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try TreeDecoder.integer(next(), path) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try TreeDecoder.integer(next(), path) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try TreeDecoder.integer(next(), path) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try TreeDecoder.integer(next(), path) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try TreeDecoder.integer(next(), path) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try TreeDecoder.integer(next(), path) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try TreeDecoder.integer(next(), path) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try TreeDecoder.integer(next(), path) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try TreeDecoder.value(type, next(), rebase, path)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try TreeDecoder(node: next(), rebase: rebase, path: path).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try TreeDecoder(node: next(), rebase: rebase, path: path).unkeyedContainer()
    }
    mutating func superDecoder() throws -> any Decoder { TreeDecoder(node: try next(), rebase: rebase, path: path) }
}

private struct SingleReader: SingleValueDecodingContainer {
    let node: SnapshotNode
    let rebase: InstantRebase
    let path: [String]
    var codingPath: [any CodingKey] { [] }

    func decodeNil() -> Bool {
        if case .null = node { return true }
        return false
    }
    func decode(_ type: Bool.Type) throws -> Bool { try TreeDecoder.bool(node, path) }
    func decode(_ type: String.Type) throws -> String { try TreeDecoder.value(String.self, node, rebase, path) }
    func decode(_ type: Double.Type) throws -> Double { throw SnapshotError("no floating point") }
    func decode(_ type: Float.Type) throws -> Float { throw SnapshotError("no floating point") }
    func decode(_ type: Int.Type) throws -> Int { try TreeDecoder.integer(node, path) }
    func decode(_ type: Int8.Type) throws -> Int8 { try TreeDecoder.integer(node, path) }
    func decode(_ type: Int16.Type) throws -> Int16 { try TreeDecoder.integer(node, path) }
    func decode(_ type: Int32.Type) throws -> Int32 { try TreeDecoder.integer(node, path) }
    func decode(_ type: Int64.Type) throws -> Int64 { try TreeDecoder.integer(node, path) }
    func decode(_ type: UInt.Type) throws -> UInt { try TreeDecoder.integer(node, path) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try TreeDecoder.integer(node, path) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try TreeDecoder.integer(node, path) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try TreeDecoder.integer(node, path) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try TreeDecoder.integer(node, path) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try TreeDecoder.value(type, node, rebase, path) }
}
