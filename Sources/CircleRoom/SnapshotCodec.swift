/// A compact binary form for the engine's `Codable` state, so a room's snapshot is the same value the engine runs on
/// (no second description of the state to keep in step with it).
///
/// The value is written as a tree: a tag byte, then varints, strings and nested values; object keys are numbers into
/// a table of key names written once at the start. Every `Instant` is written as a wall-clock time (nanoseconds since
/// the Unix epoch, signed) through ``InstantRebase``, and read back onto the reading process's monotonic clock.
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
public struct InstantRebase: Sendable {
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

struct SnapshotBytes {
    static func write<T: Encodable>(_ value: T, rebase: InstantRebase, into out: inout [UInt8]) throws {
        let encoder = TreeEncoder(rebase: rebase)
        try value.encode(to: encoder)
        let root = encoder.storage.root
        var keys: [String: Int] = [:]
        var table: [String] = []
        collectKeys(root, &keys, &table)
        putVarint(UInt64(table.count), &out)
        for key in table { putString(key, &out) }
        put(root, keys, &out)
    }

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

    private static func collectKeys(_ node: SnapshotNode, _ keys: inout [String: Int], _ table: inout [String]) {
        switch node {
        case .array(let items): for item in items { collectKeys(item, &keys, &table) }
        case .object(let members):
            for member in members {
                if keys[member.key] == nil {
                    keys[member.key] = table.count
                    table.append(member.key)
                }
                collectKeys(member.value, &keys, &table)
            }
        default: break
        }
    }

    private static func put(_ node: SnapshotNode, _ keys: [String: Int], _ out: inout [UInt8]) {
        switch node {
        case .null: out.append(0)
        case .bool(let b): out.append(b ? 2 : 1)
        case .int(let v):
            out.append(3)
            putVarint(UInt64(bitPattern: (v << 1) ^ (v >> 63)), &out)
        case .uint(let v):
            out.append(4)
            putVarint(v, &out)
        case .string(let s):
            out.append(5)
            putString(s, &out)
        case .array(let items):
            out.append(6)
            putVarint(UInt64(items.count), &out)
            for item in items { put(item, keys, &out) }
        case .object(let members):
            out.append(7)
            putVarint(UInt64(members.count), &out)
            for member in members {
                putVarint(UInt64(keys[member.key]!), &out)
                put(member.value, keys, &out)
            }
        }
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
                let n = Int(clamping: try varint())
                guard n <= bytes.count - offset else { throw SnapshotError("truncated array") }
                var items: [SnapshotNode] = []
                items.reserveCapacity(n)
                for _ in 0..<n { items.append(try node(table, depth: depth + 1)) }
                return .array(items)
            case 7:
                let n = Int(clamping: try varint())
                guard n <= bytes.count - offset else { throw SnapshotError("truncated object") }
                var members: [(key: String, value: SnapshotNode)] = []
                members.reserveCapacity(n)
                for _ in 0..<n {
                    let k = Int(clamping: try varint())
                    guard k < table.count else { throw SnapshotError("bad key") }
                    members.append((table[k], try node(table, depth: depth + 1)))
                }
                return .object(members)
            default: throw SnapshotError("bad tag")
            }
        }
    }
}

// MARK: - Encoder

/// A node under construction: containers write into boxes so that nested containers can be filled later.
final class NodeBox {
    var node: SnapshotNode
    var children: [(key: String, box: NodeBox)] = []
    var items: [NodeBox] = []
    var kind: Kind
    enum Kind { case value, object, array }

    init(_ node: SnapshotNode = .null, kind: Kind = .value) {
        self.node = node
        self.kind = kind
    }

    var root: SnapshotNode {
        switch kind {
        case .value: node
        case .object: .object(children.map { ($0.key, $0.box.root) })
        case .array: .array(items.map(\.root))
        }
    }
}

final class TreeEncoder: Encoder {
    let storage: NodeBox
    let rebase: InstantRebase
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(rebase: InstantRebase, box: NodeBox = NodeBox()) {
        self.rebase = rebase
        self.storage = box
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if storage.kind != .object { storage.kind = .object }
        return KeyedEncodingContainer(KeyedWriter<Key>(box: storage, rebase: rebase))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        storage.kind = .array
        return UnkeyedWriter(box: storage, rebase: rebase)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleWriter(box: storage, rebase: rebase) }

    /// The node for a value: primitives directly, instants as wall-clock times, the rest through `encode(to:)`.
    static func node<T: Encodable>(_ value: T, rebase: InstantRebase) throws -> NodeBox {
        if let instant = value as? Instant { return NodeBox(.int(rebase.wall(instant))) }
        if let s = value as? String { return NodeBox(.string(s)) }
        let encoder = TreeEncoder(rebase: rebase)
        try value.encode(to: encoder)
        return encoder.storage
    }
}

private struct KeyedWriter<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: NodeBox
    let rebase: InstantRebase
    var codingPath: [any CodingKey] { [] }

    private func set(_ key: Key, _ child: NodeBox) { box.children.append((key.stringValue, child)) }

    mutating func encodeNil(forKey key: Key) throws { set(key, NodeBox(.null)) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(key, NodeBox(.bool(value))) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(key, NodeBox(.string(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(key, NodeBox(.int(value))) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(key, NodeBox(.int(Int64(value)))) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(key, NodeBox(.int(Int64(value)))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(key, NodeBox(.uint(value))) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(key, NodeBox(.uint(UInt64(value)))) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(key, NodeBox(.uint(UInt64(value)))) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        throw SnapshotError("floating-point values are not stored")
    }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        set(key, try TreeEncoder.node(value, rebase: rebase))
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        let child = NodeBox(kind: .object)
        set(key, child)
        return KeyedEncodingContainer(KeyedWriter<NestedKey>(box: child, rebase: rebase))
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = NodeBox(kind: .array)
        set(key, child)
        return UnkeyedWriter(box: child, rebase: rebase)
    }
    mutating func superEncoder() -> any Encoder { TreeEncoder(rebase: rebase) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { TreeEncoder(rebase: rebase) }
}

private struct UnkeyedWriter: UnkeyedEncodingContainer {
    let box: NodeBox
    let rebase: InstantRebase
    var codingPath: [any CodingKey] { [] }
    var count: Int { box.items.count }

    mutating func encodeNil() throws { box.items.append(NodeBox(.null)) }
    mutating func encode(_ value: Bool) throws { box.items.append(NodeBox(.bool(value))) }
    mutating func encode(_ value: String) throws { box.items.append(NodeBox(.string(value))) }
    mutating func encode(_ value: Int64) throws { box.items.append(NodeBox(.int(value))) }
    mutating func encode(_ value: Int) throws { box.items.append(NodeBox(.int(Int64(value)))) }
    mutating func encode(_ value: UInt64) throws { box.items.append(NodeBox(.uint(value))) }
    mutating func encode(_ value: UInt32) throws { box.items.append(NodeBox(.uint(UInt64(value)))) }
    mutating func encode(_ value: Double) throws { throw SnapshotError("floating-point values are not stored") }
    mutating func encode<T: Encodable>(_ value: T) throws {
        box.items.append(try TreeEncoder.node(value, rebase: rebase))
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey>
    {
        let child = NodeBox(kind: .object)
        box.items.append(child)
        return KeyedEncodingContainer(KeyedWriter<NestedKey>(box: child, rebase: rebase))
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = NodeBox(kind: .array)
        box.items.append(child)
        return UnkeyedWriter(box: child, rebase: rebase)
    }
    mutating func superEncoder() -> any Encoder { TreeEncoder(rebase: rebase) }
}

private struct SingleWriter: SingleValueEncodingContainer {
    let box: NodeBox
    let rebase: InstantRebase
    var codingPath: [any CodingKey] { [] }

    private func set(_ node: SnapshotNode) {
        box.kind = .value
        box.node = node
    }
    mutating func encodeNil() throws { set(.null) }
    mutating func encode(_ value: Bool) throws { set(.bool(value)) }
    mutating func encode(_ value: String) throws { set(.string(value)) }
    mutating func encode(_ value: Int64) throws { set(.int(value)) }
    mutating func encode(_ value: Int) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: UInt64) throws { set(.uint(value)) }
    mutating func encode(_ value: UInt32) throws { set(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt8) throws { set(.uint(UInt64(value))) }
    mutating func encode(_ value: Double) throws { throw SnapshotError("floating-point values are not stored") }
    mutating func encode<T: Encodable>(_ value: T) throws {
        let child = try TreeEncoder.node(value, rebase: rebase)
        box.kind = child.kind
        box.node = child.node
        box.children = child.children
        box.items = child.items
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
