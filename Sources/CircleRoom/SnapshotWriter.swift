/// The snapshot encoder: `RoomState` and everything in it written by hand, in the exact bytes its synthesized
/// `Codable` conformance gives through the format of ``SnapshotBytes`` (the restore reads them back with `Codable`).
///
/// What synthesized `Codable` does, and so what is written here: a struct is an object of its stored properties in
/// declaration order, an optional one left out when nil; a string-valued enum is its raw value; an enum with
/// associated values is an object of one member, the case name, holding an object of the values (unlabelled ones
/// keyed `_0`, `_1`...; nil optionals left out; empty for a case without values); an array or a set is an array in
/// iteration order; a `Duration` is the array `[high, low]` of its attoseconds; an `Instant` is a wall-clock time
/// (``InstantRebase``). Keys are numbered as first met. Tests/CircleRoomTestSupport keeps the `Codable` encoder
/// this replaced, and the tests hold the two to the same bytes.
protocol SnapshotWritable {
    func write(to writer: inout SnapshotWriter)
}

/// Every key a snapshot can hold, one case per distinct name (the case name is the key).
enum SnapshotKey: UInt8, CaseIterable {
    // RoomState
    case id, config, seq, phase, silence, participants, queue, queuePolicy, floor, round, pacing, locked, removed
    case stats, log, now, epoch
    // RoomConfig, Pacing
    case maxParticipants, grace, logCapacity, maxSignalBytes, maxPrivateWordBytes, reactionBurst, reactionRefill
    case turnLength, nudgeBefore, autoAdvance
    // Silence, Floor
    case endsAt, returnsTo, speaker, startedAt, nudgeAt
    // Seats, Participant, ParticipantView, RateBucket
    case inJoinOrder, view, isConnected, isInGrace, connectionNumber, graceEndNanoseconds, reactions
    case name, role, connection, mic, camera, muted, refilledAt, credits
    // RoundEntry, StatsTable, SpeakingStats
    case participant, status, inFirstJoinOrder, turns, passes, spoken
    // EventLog, ListRun, LoggedPerson
    case storage, head, newestSeq, people, lists, listsBase, capacity, start, count
    // LoggedEvent's cases (besides connection, role, queue, floor, round, turnEnded)
    case joined, left, media, mute, turnEnded, room
    // RoomEvent's cases and labels
    case participantJoined, participantLeft, connectionChanged, mediaChanged, muteChanged, roleChanged
    case queueChanged, floorGiven, roundChanged, phaseChanged, pacingChanged, lockChanged, sessionEnded
    case reason, policy
    case _0, _1, _2

    /// Every key as the key table holds it (its length, then its UTF-8 bytes), end to end in raw-value order, and
    /// where each one starts (one more offset: the end).
    static let table: (bytes: [UInt8], offsets: [Int]) = {
        var bytes: [UInt8] = []
        var offsets: [Int] = []
        for key in allCases {
            offsets.append(bytes.count)
            // The case name, as synthesized coding keys name a property (reflection: a build that strips its
            // metadata would write other names, so it stops here instead).
            let name = String(describing: key)
            precondition(name.allSatisfy { $0 == "_" || $0.isASCII && ($0.isLetter || $0.isNumber) }, "key \(name)")
            SnapshotBytes.putString(name, &bytes)
        }
        offsets.append(bytes.count)
        return (bytes, offsets)
    }()
}

/// Writes one snapshot: the value into a buffer of its own as it comes (unchecked writes after one room check per
/// value: an `Array` append's uniqueness and capacity checks were a third of the time), each key by its number,
/// given in first-met order.
struct SnapshotWriter: ~Copyable {
    let rebase: InstantRebase
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Bytes written.
    private(set) var count = 0
    /// Per key (by raw value): its number in this snapshot plus one (what is written), or 0 before it is met.
    private let numbers: UnsafeMutablePointer<UInt8>
    /// The keys met so far, in order (raw values): the key table.
    private let met: UnsafeMutablePointer<UInt8>
    private var metCount = 0

    init(rebase: InstantRebase, reserving capacity: Int) {
        self.rebase = rebase
        self.capacity = max(64, capacity)
        base = .allocate(capacity: self.capacity)
        numbers = .allocate(capacity: 2 * SnapshotKey.allCases.count)
        numbers.initialize(repeating: 0, count: 2 * SnapshotKey.allCases.count)
        met = numbers + SnapshotKey.allCases.count
    }

    deinit {
        base.deallocate()
        numbers.deallocate()
    }

    /// `prefix`, the key table, then what was written: one allocation, filled by copies.
    func bytes(after prefix: [UInt8]) -> [UInt8] {
        let table = SnapshotKey.table
        return table.bytes.withUnsafeBufferPointer { names in
            table.offsets.withUnsafeBufferPointer { offsets in
                var size = prefix.count + 1 + count  // the key count is one byte: fewer than 128 keys
                for i in 0..<metCount { size += offsets[Int(met[i]) + 1] - offsets[Int(met[i])] }
                return [UInt8](unsafeUninitializedCapacity: size) { out, initialized in
                    guard var at = out.baseAddress else { return }
                    prefix.withUnsafeBufferPointer { at.update(from: $0.baseAddress!, count: $0.count) }
                    at += prefix.count
                    at.pointee = UInt8(metCount)
                    at += 1
                    for i in 0..<metCount {
                        let from = offsets[Int(met[i])], to = offsets[Int(met[i]) + 1]
                        at.update(from: names.baseAddress! + from, count: to - from)
                        at += to - from
                    }
                    at.update(from: base, count: count)
                    initialized = size
                }
            }
        }
    }

    // MARK: Values

    /// Makes room for `n` more bytes.
    @inline(__always)
    private mutating func reserve(_ n: Int) {
        if capacity - count < n { grow(n) }
    }

    @inline(never)
    private mutating func grow(_ n: Int) {
        let larger = Swift.max(capacity * 2, count + n)
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: larger)
        moved.update(from: base, count: count)
        base.deallocate()
        base = moved
        capacity = larger
    }

    /// One byte; room made by the caller.
    @inline(__always)
    private mutating func put(_ byte: UInt8) {
        base[count] = byte
        count += 1
    }

    /// A varint (at most 10 bytes); room made by the caller.
    @inline(__always)
    private mutating func putVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            put(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        put(UInt8(v))
    }

    /// A member's key: its number plus one (there are fewer than 127 keys, so one byte).
    @inline(__always)
    mutating func key(_ key: SnapshotKey) {
        let index = Int(key.rawValue)
        var number = numbers[index]
        if number == 0 {
            met[metCount] = key.rawValue
            metCount += 1
            number = UInt8(metCount)
            numbers[index] = number
        }
        reserve(1)
        put(number)
    }

    @inline(__always)
    private mutating func tag(_ tag: UInt8) {
        reserve(1)
        put(tag)
    }

    @inline(__always) mutating func beginObject() { tag(7) }
    @inline(__always) mutating func endObject() { tag(0) }
    @inline(__always) mutating func beginArray() { tag(6) }
    @inline(__always) mutating func endArray() { tag(SnapshotBytes.endOfArray) }
    @inline(__always) mutating func bool(_ b: Bool) { tag(b ? 2 : 1) }

    @inline(__always)
    mutating func int(_ v: Int64) {
        reserve(11)
        put(3)
        putVarint(UInt64(bitPattern: (v << 1) ^ (v >> 63)))
    }

    @inline(__always)
    mutating func uint(_ v: UInt64) {
        reserve(11)
        put(4)
        putVarint(v)
    }

    mutating func string(_ s: String) {
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { utf8 in
            reserve(11 + utf8.count)
            put(5)
            putVarint(UInt64(utf8.count))
            if let from = utf8.baseAddress { (base + count).update(from: from, count: utf8.count) }
            count += utf8.count
        }
        if done == nil {  // not contiguous (a bridged string): byte by byte
            reserve(11 + s.utf8.count)
            put(5)
            putVarint(UInt64(s.utf8.count))
            for byte in s.utf8 { put(byte) }
        }
    }

    @inline(__always)
    mutating func field<T: SnapshotWritable>(_ key: SnapshotKey, _ value: T) {
        self.key(key)
        value.write(to: &self)
    }

    /// A member written only when there is a value (synthesized `encodeIfPresent`).
    @inline(__always)
    mutating func field<T: SnapshotWritable>(_ key: SnapshotKey, ifPresent value: T?) {
        if let value { field(key, value) }
    }

    /// An enum case with associated values: `{case: {values}}`; `values` writes the inner members.
    @inline(__always)
    mutating func enumCase(_ key: SnapshotKey, _ values: (inout SnapshotWriter) -> Void) {
        beginObject()
        self.key(key)
        beginObject()
        values(&self)
        endObject()
        endObject()
    }
}

// MARK: - Leaves

extension String: SnapshotWritable {
    func write(to writer: inout SnapshotWriter) { writer.string(self) }
}

extension Int: SnapshotWritable {
    func write(to writer: inout SnapshotWriter) { writer.int(Int64(self)) }
}

extension Int32: SnapshotWritable {
    func write(to writer: inout SnapshotWriter) { writer.int(Int64(self)) }
}

extension UInt64: SnapshotWritable {
    func write(to writer: inout SnapshotWriter) { writer.uint(self) }
}

extension UInt32: SnapshotWritable {
    func write(to writer: inout SnapshotWriter) { writer.uint(UInt64(self)) }
}

extension Bool: SnapshotWritable {
    func write(to writer: inout SnapshotWriter) { writer.bool(self) }
}

extension Instant: SnapshotWritable {
    func write(to writer: inout SnapshotWriter) { writer.int(writer.rebase.wall(self)) }
}

extension Duration: SnapshotWritable {
    /// `Duration`'s own `Codable`: its 128-bit attosecond count as `[high, low]`.
    func write(to writer: inout SnapshotWriter) {
        writer.beginArray()
        writer.int(_high)
        writer.uint(_low)
        writer.endArray()
    }
}

extension Array: SnapshotWritable where Element: SnapshotWritable {
    func write(to writer: inout SnapshotWriter) {
        writer.beginArray()
        // Elements borrowed in place, not copied out (a copy retains every string in a seat).
        withUnsafeBufferPointer { elements in
            for i in elements.indices { elements[i].write(to: &writer) }
        }
        writer.endArray()
    }
}

extension Set: SnapshotWritable where Element: SnapshotWritable {
    func write(to writer: inout SnapshotWriter) {
        writer.beginArray()
        for element in self { element.write(to: &writer) }
        writer.endArray()
    }
}

/// String-valued enums are their raw value.
extension SnapshotWritable where Self: RawRepresentable, RawValue == String {
    func write(to writer: inout SnapshotWriter) { writer.string(rawValue) }
}

extension Phase: SnapshotWritable {}
extension Role: SnapshotWritable {}
extension ConnectionState: SnapshotWritable {}
extension QueuePolicy: SnapshotWritable {}
extension RoundStatus: SnapshotWritable {}
extension LeaveReason: SnapshotWritable {}
extension TurnEndReason: SnapshotWritable {}

// MARK: - The state

extension RoomState: SnapshotWritable {
    func write(to writer: inout SnapshotWriter) { write(to: &writer, withLog: true) }

    /// The state; without the log, an empty log of the same capacity stands in for it (the running snapshots).
    func write(to w: inout SnapshotWriter, withLog: Bool) {
        w.beginObject()
        w.field(.id, id)
        w.field(.config, config)
        w.field(.seq, seq)
        w.field(.phase, phase)
        w.field(.silence, ifPresent: silence)
        w.field(.participants, participants)
        w.field(.queue, queue)
        w.field(.queuePolicy, queuePolicy)
        w.field(.floor, ifPresent: floor)
        w.field(.round, round)
        w.field(.pacing, pacing)
        w.field(.locked, locked)
        w.field(.removed, removed)
        w.field(.stats, stats)
        w.key(.log)
        if withLog { log.write(to: &w) } else { EventLog.writeEmpty(capacity: log.capacity, to: &w) }
        w.field(.now, now)
        w.field(.epoch, epoch)
        w.endObject()
    }
}

extension RoomConfig: SnapshotWritable {
    func write(to w: inout SnapshotWriter) {
        w.beginObject()
        w.field(.maxParticipants, maxParticipants)
        w.field(.grace, grace)
        w.field(.logCapacity, logCapacity)
        w.field(.maxSignalBytes, maxSignalBytes)
        w.field(.maxPrivateWordBytes, maxPrivateWordBytes)
        w.field(.reactionBurst, reactionBurst)
        w.field(.reactionRefill, reactionRefill)
        w.field(.pacing, pacing)
        w.field(.queuePolicy, queuePolicy)
        w.endObject()
    }
}

extension Pacing: SnapshotWritable {
    func write(to w: inout SnapshotWriter) {
        w.beginObject()
        w.field(.turnLength, ifPresent: turnLength)
        w.field(.nudgeBefore, nudgeBefore)
        w.field(.autoAdvance, autoAdvance)
        w.endObject()
    }
}

extension Silence: SnapshotWritable {
    func write(to w: inout SnapshotWriter) {
        w.beginObject()
        w.field(.endsAt, endsAt)
        w.field(.returnsTo, returnsTo)
        w.endObject()
    }
}

extension Floor: SnapshotWritable {
    func write(to w: inout SnapshotWriter) {
        w.beginObject()
        w.field(.speaker, speaker)
        w.field(.startedAt, startedAt)
        w.field(.turnLength, ifPresent: turnLength)
        w.field(.nudgeAt, ifPresent: nudgeAt)
        w.field(.endsAt, ifPresent: endsAt)
        w.endObject()
    }
}

extension Seats: SnapshotWritable {
    func write(to w: inout SnapshotWriter) {
        w.beginObject()
        w.field(.inJoinOrder, inJoinOrder)
        w.endObject()
    }
}

extension Participant: SnapshotWritable {
    func write(to w: inout SnapshotWriter) {
        w.beginObject()
        w.field(.view, view)
        w.field(.isConnected, isConnected)
        w.field(.isInGrace, isInGrace)
        w.field(.connectionNumber, connectionNumber)
        w.field(.graceEndNanoseconds, graceEndNanoseconds)
        w.field(.reactions, reactions)
        w.endObject()
    }
}

extension ParticipantView: SnapshotWritable {
    func write(to w: inout SnapshotWriter) {
        w.beginObject()
        w.field(.id, id)
        w.field(.name, name)
        w.field(.role, role)
        w.field(.connection, connection)
        w.field(.mic, mic)
        w.field(.camera, camera)
        w.field(.muted, muted)
        w.endObject()
    }
}

extension RateBucket: SnapshotWritable {
    func write(to w: inout SnapshotWriter) {
        w.beginObject()
        w.field(.refilledAt, refilledAt)
        w.field(.credits, credits)
        w.endObject()
    }
}

extension RoundEntry: SnapshotWritable {
    func write(to w: inout SnapshotWriter) {
        w.beginObject()
        w.field(.participant, participant)
        w.field(.status, status)
        w.endObject()
    }
}

extension StatsTable: SnapshotWritable {
    func write(to w: inout SnapshotWriter) {
        w.beginObject()
        w.field(.inFirstJoinOrder, inFirstJoinOrder)
        w.endObject()
    }
}

extension SpeakingStats: SnapshotWritable {
    func write(to w: inout SnapshotWriter) {
        w.beginObject()
        w.field(.participant, participant)
        w.field(.turns, turns)
        w.field(.passes, passes)
        w.field(.spoken, spoken)
        w.endObject()
    }
}

// MARK: - The event log

extension EventLog: SnapshotWritable {
    func write(to w: inout SnapshotWriter) {
        w.beginObject()
        w.field(.storage, storage)
        w.field(.head, head)
        w.field(.newestSeq, newestSeq)
        w.field(.people, people)
        w.field(.lists, lists)
        w.field(.listsBase, listsBase)
        w.field(.capacity, capacity)
        w.endObject()
    }

    /// What `EventLog(capacity: capacity)` writes, without making one.
    static func writeEmpty(capacity: Int, to w: inout SnapshotWriter) {
        w.beginObject()
        w.key(.storage)
        w.beginArray()
        w.endArray()
        w.field(.head, 0)
        w.field(.newestSeq, UInt64(0))
        w.key(.people)
        w.beginArray()
        w.endArray()
        w.key(.lists)
        w.beginArray()
        w.endArray()
        w.field(.listsBase, UInt64(0))
        w.field(.capacity, Swift.max(1, capacity))
        w.endObject()
    }
}

extension ListRun: SnapshotWritable {
    func write(to w: inout SnapshotWriter) {
        w.beginObject()
        w.field(.start, start)
        w.field(.count, count)
        w.endObject()
    }
}

extension LoggedPerson: SnapshotWritable {
    func write(to w: inout SnapshotWriter) {
        w.beginObject()
        w.field(.id, id)
        w.field(.name, ifPresent: name)
        w.endObject()
    }
}

extension LoggedEvent: SnapshotWritable {
    func write(to w: inout SnapshotWriter) {
        switch self {
        case .joined(let index, let role, let connection, let mic, let camera, let muted):
            w.enumCase(.joined) {
                $0.field(._0, index)
                $0.field(._1, role)
                $0.field(._2, connection)
                $0.field(.mic, mic)
                $0.field(.camera, camera)
                $0.field(.muted, muted)
            }
        case .left(let index, let reason):
            w.enumCase(.left) {
                $0.field(._0, index)
                $0.field(._1, reason)
            }
        case .connection(let index, let state):
            w.enumCase(.connection) {
                $0.field(._0, index)
                $0.field(._1, state)
            }
        case .media(let index, let mic, let camera):
            w.enumCase(.media) {
                $0.field(._0, index)
                $0.field(.mic, mic)
                $0.field(.camera, camera)
            }
        case .mute(let run, let muted):
            w.enumCase(.mute) {
                $0.field(._0, run)
                $0.field(.muted, muted)
            }
        case .role(let index, let role):
            w.enumCase(.role) {
                $0.field(._0, index)
                $0.field(._1, role)
            }
        case .queue(let run, let policy):
            w.enumCase(.queue) {
                $0.field(._0, run)
                $0.field(._1, policy)
            }
        case .floor(let index, let turnLength):
            w.enumCase(.floor) {
                $0.field(._0, index)
                $0.field(.turnLength, ifPresent: turnLength)
            }
        case .turnEnded(let index, let reason):
            w.enumCase(.turnEnded) {
                $0.field(._0, index)
                $0.field(._1, reason)
            }
        case .round(let run):
            w.enumCase(.round) { $0.field(._0, run) }
        case .room(let event):
            w.enumCase(.room) { $0.field(._0, event) }
        }
    }
}

extension RoomEvent: SnapshotWritable {
    func write(to w: inout SnapshotWriter) {
        switch self {
        case .participantJoined(let view):
            w.enumCase(.participantJoined) { $0.field(._0, view) }
        case .participantLeft(let id, let reason):
            w.enumCase(.participantLeft) {
                $0.field(._0, id)
                $0.field(.reason, reason)
            }
        case .connectionChanged(let id, let state):
            w.enumCase(.connectionChanged) {
                $0.field(._0, id)
                $0.field(._1, state)
            }
        case .mediaChanged(let id, let mic, let camera):
            w.enumCase(.mediaChanged) {
                $0.field(._0, id)
                $0.field(.mic, mic)
                $0.field(.camera, camera)
            }
        case .muteChanged(let ids, let muted):
            w.enumCase(.muteChanged) {
                $0.field(._0, ids)
                $0.field(.muted, muted)
            }
        case .roleChanged(let id, let role):
            w.enumCase(.roleChanged) {
                $0.field(._0, id)
                $0.field(._1, role)
            }
        case .queueChanged(let ids, let policy):
            w.enumCase(.queueChanged) {
                $0.field(._0, ids)
                $0.field(.policy, policy)
            }
        case .floorGiven(let id, let turnLength):
            w.enumCase(.floorGiven) {
                $0.field(._0, id)
                $0.field(.turnLength, ifPresent: turnLength)
            }
        case .turnEnded(let id, let reason):
            w.enumCase(.turnEnded) {
                $0.field(._0, id)
                $0.field(.reason, reason)
            }
        case .roundChanged(let entries):
            w.enumCase(.roundChanged) { $0.field(._0, entries) }
        case .phaseChanged(let phase, let silence, let returnsTo):
            w.enumCase(.phaseChanged) {
                $0.field(._0, phase)
                $0.field(.silence, ifPresent: silence)
                $0.field(.returnsTo, ifPresent: returnsTo)
            }
        case .pacingChanged(let pacing):
            w.enumCase(.pacingChanged) { $0.field(._0, pacing) }
        case .lockChanged(let locked):
            w.enumCase(.lockChanged) { $0.field(.locked, locked) }
        case .sessionEnded:
            w.enumCase(.sessionEnded) { _ in }
        }
    }
}
