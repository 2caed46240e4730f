/// A compact binary form for the engine's `Codable` state, so a room's snapshot is the same value the engine runs on
/// (no second description of the state to keep in step with it).
///
/// The value is written as it is encoded (a tag byte, then varints, strings and nested values); object keys are
/// numbers into a table of key names written once at the start, and read back as a tree. Every `Instant` is written
/// as a wall-clock time (nanoseconds since the Unix epoch, signed) through ``InstantRebase``, and read back onto the
/// reading process's monotonic clock.
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

/// Layout: the key table (a count, then each key), then the root value. A value is a tag byte: 0 null, 1 false,
/// 2 true, 3 a zigzag varint, 4 a varint, 5 a string (length, UTF-8), 6 an array (values, then tag 8), 7 an object
/// (key number + 1 and value pairs, then 0).
struct SnapshotBytes {
    static let endOfArray: UInt8 = 8

    static func write<T: Encodable>(_ value: T, rebase: InstantRebase, into out: inout [UInt8]) throws {
        let sink = Sink(rebase: rebase)
        try sink.value(value, depth: 0)
        sink.close(above: 0)
        putVarint(UInt64(sink.keyTable.count), &out)
        for key in sink.keyTable { putString(key, &out) }
        out.append(contentsOf: sink.out)
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

// MARK: - Encoder

/// The encoder's output, written as the values come (synthesized `Codable` encodes depth first, in order). A
/// container's end is written when a shallower container writes next, or at the end: `open` holds the kinds of the
/// containers still open, deepest last.
final class Sink {
    let rebase: InstantRebase
    var out: [UInt8] = []
    var keyTable: [String] = []
    /// Key names to their number in `keyTable`: open addressing on an FNV-1a hash of the name's bytes (-1: empty).
    /// A snapshot has a few dozen distinct keys met hundreds of times; a `Dictionary` (seeded SipHash, grown from
    /// empty in every snapshot) was a quarter of the encoding time.
    private var slots = [Int32](repeating: -1, count: 128)
    /// Open containers: true for an object, false for an array.
    var open: [Bool] = []

    init(rebase: InstantRebase) {
        self.rebase = rebase
        out.reserveCapacity(4096)
    }

    /// Ends the containers deeper than `depth`.
    @inline(__always)
    func close(above depth: Int) {
        while open.count > depth {
            out.append(open.removeLast() ? 0 : SnapshotBytes.endOfArray)
        }
    }

    func key(_ key: some CodingKey, depth: Int) {
        close(above: depth)
        SnapshotBytes.putVarint(UInt64(number(of: key.stringValue)) + 1, &out)
    }

    /// The key's number in `keyTable`, given to it when first met.
    private func number(of name: String) -> Int32 {
        let mask = slots.count - 1
        var i = Self.slot(name) & mask
        while true {
            let found = slots[i]
            if found < 0 { break }
            if keyTable[Int(found)] == name { return found }
            i = (i + 1) & mask
        }
        let number = Int32(keyTable.count)
        keyTable.append(name)
        slots[i] = number
        if keyTable.count * 2 > slots.count { rehash() }
        return number
    }

    /// FNV-1a of the name's UTF-8 bytes.
    private static func slot(_ name: String) -> Int {
        var name = name
        var hash: UInt32 = 2_166_136_261
        name.withUTF8 { for b in $0 { hash = (hash ^ UInt32(b)) &* 16_777_619 } }
        return Int(hash)
    }

    /// Doubles the slots (kept at most half full) and places every key again.
    private func rehash() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        let mask = slots.count - 1
        for (number, name) in keyTable.enumerated() {
            var i = Self.slot(name) & mask
            while slots[i] >= 0 { i = (i + 1) & mask }
            slots[i] = Int32(number)
        }
    }

    func element(depth: Int) { close(above: depth) }

    func int(_ v: Int64) {
        out.append(3)
        SnapshotBytes.putVarint(UInt64(bitPattern: (v << 1) ^ (v >> 63)), &out)
    }

    func uint(_ v: UInt64) {
        out.append(4)
        SnapshotBytes.putVarint(v, &out)
    }

    func string(_ s: String) {
        out.append(5)
        SnapshotBytes.putString(s, &out)
    }

    func bool(_ b: Bool) { out.append(b ? 2 : 1) }

    /// A value at `depth` (the depth of the container it is in): instants as wall-clock times.
    func value<T: Encodable>(_ value: T, depth: Int) throws {
        if T.self == Instant.self { return int(rebase.wall(value as! Instant)) }
        if T.self == String.self { return string(value as! String) }
        let before = out.count
        try value.encode(to: StreamEncoder(sink: self, depth: depth))
        close(above: depth)
        if out.count == before { out.append(0) }  // encoded nothing: a null keeps the layout whole
    }
}

struct StreamEncoder: Encoder {
    let sink: Sink
    let depth: Int
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        sink.close(above: depth)
        sink.out.append(7)
        sink.open.append(true)
        return KeyedEncodingContainer(KeyedWriter<Key>(sink: sink, depth: depth + 1))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        sink.close(above: depth)
        sink.out.append(6)
        sink.open.append(false)
        return UnkeyedWriter(sink: sink, depth: depth + 1)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleWriter(sink: sink, depth: depth) }
}

private struct KeyedWriter<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let sink: Sink
    let depth: Int
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil(forKey key: Key) throws {
        sink.key(key, depth: depth)
        sink.out.append(0)
    }
    mutating func encode(_ value: Bool, forKey key: Key) throws {
        sink.key(key, depth: depth)
        sink.bool(value)
    }
    mutating func encode(_ value: String, forKey key: Key) throws {
        sink.key(key, depth: depth)
        sink.string(value)
    }
    mutating func encode(_ value: Int64, forKey key: Key) throws {
        sink.key(key, depth: depth)
        sink.int(value)
    }
    mutating func encode(_ value: Int, forKey key: Key) throws {
        sink.key(key, depth: depth)
        sink.int(Int64(value))
    }
    mutating func encode(_ value: Int32, forKey key: Key) throws {
        sink.key(key, depth: depth)
        sink.int(Int64(value))
    }
    mutating func encode(_ value: UInt64, forKey key: Key) throws {
        sink.key(key, depth: depth)
        sink.uint(value)
    }
    mutating func encode(_ value: UInt32, forKey key: Key) throws {
        sink.key(key, depth: depth)
        sink.uint(UInt64(value))
    }
    mutating func encode(_ value: UInt8, forKey key: Key) throws {
        sink.key(key, depth: depth)
        sink.uint(UInt64(value))
    }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        throw SnapshotError("floating-point values are not stored")
    }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        sink.key(key, depth: depth)
        try sink.value(value, depth: depth)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        sink.key(key, depth: depth)
        return StreamEncoder(sink: sink, depth: depth).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        sink.key(key, depth: depth)
        return StreamEncoder(sink: sink, depth: depth).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder { StreamEncoder(sink: sink, depth: depth) }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        sink.key(key, depth: depth)
        return StreamEncoder(sink: sink, depth: depth)
    }
}

private struct UnkeyedWriter: UnkeyedEncodingContainer {
    let sink: Sink
    let depth: Int
    var codingPath: [any CodingKey] { [] }
    var count = 0

    mutating func encodeNil() throws {
        sink.element(depth: depth)
        sink.out.append(0)
        count += 1
    }
    mutating func encode(_ value: Bool) throws {
        sink.element(depth: depth)
        sink.bool(value)
        count += 1
    }
    mutating func encode(_ value: String) throws {
        sink.element(depth: depth)
        sink.string(value)
        count += 1
    }
    mutating func encode(_ value: Int64) throws {
        sink.element(depth: depth)
        sink.int(value)
        count += 1
    }
    mutating func encode(_ value: Int) throws {
        sink.element(depth: depth)
        sink.int(Int64(value))
        count += 1
    }
    mutating func encode(_ value: UInt64) throws {
        sink.element(depth: depth)
        sink.uint(value)
        count += 1
    }
    mutating func encode(_ value: UInt32) throws {
        sink.element(depth: depth)
        sink.uint(UInt64(value))
        count += 1
    }
    mutating func encode(_ value: Double) throws { throw SnapshotError("floating-point values are not stored") }
    mutating func encode<T: Encodable>(_ value: T) throws {
        sink.element(depth: depth)
        try sink.value(value, depth: depth)
        count += 1
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey>
    {
        sink.element(depth: depth)
        count += 1
        return StreamEncoder(sink: sink, depth: depth).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        sink.element(depth: depth)
        count += 1
        return StreamEncoder(sink: sink, depth: depth).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder {
        sink.element(depth: depth)
        count += 1
        return StreamEncoder(sink: sink, depth: depth)
    }
}

private struct SingleWriter: SingleValueEncodingContainer {
    let sink: Sink
    let depth: Int
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil() throws { sink.out.append(0) }
    mutating func encode(_ value: Bool) throws { sink.bool(value) }
    mutating func encode(_ value: String) throws { sink.string(value) }
    mutating func encode(_ value: Int64) throws { sink.int(value) }
    mutating func encode(_ value: Int) throws { sink.int(Int64(value)) }
    mutating func encode(_ value: Int32) throws { sink.int(Int64(value)) }
    mutating func encode(_ value: UInt64) throws { sink.uint(value) }
    mutating func encode(_ value: UInt32) throws { sink.uint(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { sink.uint(UInt64(value)) }
    mutating func encode(_ value: Double) throws { throw SnapshotError("floating-point values are not stored") }
    mutating func encode<T: Encodable>(_ value: T) throws { try sink.value(value, depth: depth) }
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
