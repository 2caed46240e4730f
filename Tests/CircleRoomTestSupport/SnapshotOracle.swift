// The `Codable` snapshot encoder the hand-written one (Sources/CircleRoom/SnapshotWriter.swift) replaced, kept as
// its oracle: the tests and the benchmark (Tests/Fuzz/Bench, which compiles this file in) hold the two to the same
// bytes. It writes the format of `SnapshotBytes` from any `Encodable`, through the value's own conformance.
@testable import CircleRoom

/// The reference encoder: `Room.snapshotBytes` as it was, through `Codable`.
public enum SnapshotOracle {
    /// A value's bytes: the key table, then the value.
    public static func write<T: Encodable>(_ value: T, rebase: InstantRebase, into out: inout [UInt8]) throws {
        let sink = Sink(rebase: rebase)
        try sink.value(value, depth: 0)
        sink.close(above: 0)
        SnapshotBytes.putVarint(UInt64(sink.keyTable.count), &out)
        for key in sink.keyTable { SnapshotBytes.putString(key, &out) }
        out.append(contentsOf: sink.out)
    }

    /// What `Room.snapshotBytes(rebase:final:)` wrote through `Codable`: the running snapshot is the state with an
    /// empty log of the same capacity in place of its log.
    public static func snapshotBytes(_ state: RoomState, rebase: InstantRebase, final: Bool = false) -> [UInt8] {
        var out = Room.snapshotHeader
        out.append(final ? 1 : 0)
        var state = state
        if !final { state.log = EventLog(capacity: state.log.capacity) }
        try! write(state, rebase: rebase, into: &out)
        return out
    }
}

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
