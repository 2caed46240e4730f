import CircleProtocol
import CircleRoom

/// One record of a room's journal: an input the room took after its last snapshot, which a restore after a crash
/// replays through the same engine (``Room/replaying(_:rebase:_:)``). Only inputs that changed the room's events
/// (its seq), joins and drops are recorded; never a signal, a private word or a reaction (they carry what people
/// say, and change no logged state). See Docs/STORAGE.md, "Integration".
///
/// Layout: `C R J` and a version byte (1), the kind (0 join, 1 command, 2 drop, 3 tick), then little-endian
/// 64-bit fields: the room's epoch, its seq before and after the input, the input's instant and the writing
/// process's clock pair (a monotonic instant and the wall time at it, ``InstantRebase``), the connection; then for a
/// join the role (one byte), the sub and the name (each a 16-bit length and UTF-8), for a command its request as the
/// client protocol's JSON.
struct JournalRecord: Equatable {
    var epoch: UInt64
    var seqBefore: UInt64
    var seqAfter: UInt64
    var now: Instant
    /// The clock pair the writing process uses for its snapshots and records.
    var rebase: InstantRebase
    var input: RoomInput

    static let header: [UInt8] = [0x43, 0x52, 0x4A, 1]

    /// Whether `input` may be recorded: it changes no state worth keeping unless it changed the seq, and it says
    /// nothing anyone said.
    static func records(_ input: RoomInput, seqChanged: Bool) -> Bool {
        switch input {
        case let .join(_, identity): identity.sub.utf8.count <= 0xFFFF && identity.name.utf8.count <= 0xFFFF
        case .disconnected: true
        case .tick: seqChanged
        case .command(_, let command):
            switch command {
            case .signal, .privateWord, .reaction, .requestStats, .privateWordSeen: false
            default: seqChanged
            }
        }
    }

    func bytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + 128)
        out.append(contentsOf: Self.header)
        let connection: ConnectionID
        switch input {
        case let .join(c, _): out.append(0); connection = c
        case let .command(c, _): out.append(1); connection = c
        case let .disconnected(c): out.append(2); connection = c
        case .tick: out.append(3); connection = 0
        }
        func put(_ value: UInt64) {
            for shift in stride(from: 0 as UInt64, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> shift)) }
        }
        put(epoch); put(seqBefore); put(seqAfter); put(now.nanoseconds); put(rebase.now.nanoseconds)
        put(UInt64(bitPattern: rebase.wallNanoseconds)); put(connection.rawValue)
        switch input {
        case let .join(_, identity):
            out.append(UInt8(Role.allCases.firstIndex(of: identity.role)!))
            for text in [identity.sub, identity.name] {
                let count = text.utf8.count
                out.append(UInt8(count & 0xFF)); out.append(UInt8(count >> 8 & 0xFF))
                out.append(contentsOf: text.utf8)
            }
        case let .command(_, command):
            out.append(contentsOf: WireProtocol.encode(ClientRequest(command: command)))
        case .disconnected, .tick:
            break
        }
        return out
    }

    /// Reads a record back; nil for anything else (another version, cut short, a request that does not decode).
    init?(_ bytes: [UInt8]) {
        guard bytes.count >= 5 + 56, Array(bytes[0..<4]) == Self.header, bytes[4] <= 3 else { return nil }
        var at = 5
        func u64() -> UInt64 {
            var value: UInt64 = 0
            for i in 0..<8 { value |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
            at += 8
            return value
        }
        epoch = u64(); seqBefore = u64(); seqAfter = u64(); now = Instant(nanoseconds: u64())
        rebase = InstantRebase(now: Instant(nanoseconds: u64()), wallNanoseconds: Int64(bitPattern: u64()))
        let connection = ConnectionID(u64())
        switch bytes[4] {
        case 0:
            guard at < bytes.count, Int(bytes[at]) < Role.allCases.count else { return nil }
            let role = Role.allCases[Int(bytes[at])]
            at += 1
            var texts: [String] = []
            for _ in 0..<2 {
                guard at + 2 <= bytes.count else { return nil }
                let count = Int(bytes[at]) | Int(bytes[at + 1]) << 8
                at += 2
                guard at + count <= bytes.count, let text = String(validating: bytes[at..<at + count], as: UTF8.self)
                else { return nil }
                texts.append(text)
                at += count
            }
            guard at == bytes.count else { return nil }
            input = .join(connection, Identity(sub: texts[0], name: texts[1], role: role))
        case 1:
            guard case .success(let request) = WireProtocol.decode(Array(bytes[at...])) else { return nil }
            input = .command(connection, request.command)
        case 2:
            guard at == bytes.count else { return nil }
            input = .disconnected(connection)
        default:
            guard at == bytes.count else { return nil }
            input = .tick
        }
    }

    init(epoch: UInt64, seqBefore: UInt64, seqAfter: UInt64, now: Instant, rebase: InstantRebase, input: RoomInput) {
        self.epoch = epoch
        self.seqBefore = seqBefore
        self.seqAfter = seqAfter
        self.now = now
        self.rebase = rebase
        self.input = input
    }
}
