import CircleWebSocket

/// The bytes of a string's UTF-8.
func utf8(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Every way to cut `bytes` into pieces for split-invariance tests: one byte at a time, and every two-way split.
func splits(of bytes: [UInt8]) -> [[[UInt8]]] {
    var all: [[[UInt8]]] = [bytes.map { [$0] }]
    for cut in 0...bytes.count { all.append([Array(bytes[..<cut]), Array(bytes[cut...])]) }
    return all
}

/// The RFC 6455 §5.7 example mask key.
let rfcKey: (UInt8, UInt8, UInt8, UInt8) = (0x37, 0xFA, 0x21, 0x3D)

/// Builds a frame by hand (independently of the encoder), so hostile frames can be made: any first byte,
/// any length encoding, masked or not.
func rawFrame(
    first: UInt8, payload: [UInt8], mask: (UInt8, UInt8, UInt8, UInt8)? = rfcKey, lengthBytes: Int? = nil
) -> [UInt8] {
    var out: [UInt8] = [first]
    let maskBit: UInt8 = mask == nil ? 0 : 0x80
    let n = payload.count
    switch lengthBytes ?? (n <= 125 ? 0 : n <= 0xFFFF ? 2 : 8) {
    case 0: out.append(maskBit | UInt8(n))
    case 2: out += [maskBit | 126, UInt8(n >> 8), UInt8(n & 0xFF)]
    default:
        out.append(maskBit | 127)
        for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8((UInt64(n) >> UInt64(s)) & 0xFF)) }
    }
    guard let mask else { return out + payload }
    let k = [mask.0, mask.1, mask.2, mask.3]
    out += k
    for (i, b) in payload.enumerated() { out.append(b ^ k[i % 4]) }
    return out
}

/// A well-formed frame as a client sends it (masked) with opcode `op`.
func clientFrame(_ op: UInt8, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
    rawFrame(first: (fin ? 0x80 : 0) | op, payload: payload)
}

/// A well-formed frame as a server sends it (unmasked) with opcode `op`.
func serverFrame(_ op: UInt8, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
    rawFrame(first: (fin ? 0x80 : 0) | op, payload: payload, mask: nil)
}

/// A close frame payload by hand.
func closeBody(_ code: UInt16, _ reason: [UInt8] = []) -> [UInt8] {
    [UInt8(code >> 8), UInt8(code & 0xFF)] + reason
}

/// Rewrites a masked frame as its unmasked equivalent, so writes from client-role codecs (random keys)
/// can be compared. Unmasked frames are returned unchanged.
func unmasked(_ frame: [UInt8]) -> [UInt8] {
    guard frame.count >= 2, frame[1] & 0x80 != 0 else { return frame }
    let short = Int(frame[1] & 0x7F)
    let lengthBytes = short == 126 ? 2 : short == 127 ? 8 : 0
    let keyAt = 2 + lengthBytes
    let key = Array(frame[keyAt..<(keyAt + 4)])
    var out = [frame[0], frame[1] & 0x7F] + frame[2..<keyAt]
    for (i, b) in frame[(keyAt + 4)...].enumerated() { out.append(b ^ key[i % 4]) }
    return out
}

/// Normalizes actions for comparison: writes unmasked, `.fragment` reports left out (``fragmentCount(_:)``
/// counts them).
func normalized(_ actions: [WebSocketAction]) -> [WebSocketAction] {
    actions.filter { $0 != .fragment }.map {
        switch $0 {
        case .write(let b): .write(unmasked(b))
        case .sendPong(let b): .sendPong(unmasked(b))
        default: $0
        }
    }
}

/// Feeds `chunks` to `codec` and returns every action, writes normalized.
func run(_ codec: inout WebSocketCodec, _ chunks: [[UInt8]]) -> [WebSocketAction] {
    var actions: [WebSocketAction] = []
    for chunk in chunks { codec.receive(chunk) { actions.append($0) } }
    return normalized(actions)
}

/// Feeds `bytes` in one piece to a new codec.
func run(_ role: WebSocketRole, _ bytes: [UInt8], limits: WebSocketLimits = .init()) -> [WebSocketAction] {
    var codec = WebSocketCodec(role: role, limits: limits)
    return run(&codec, [bytes])
}

/// The (code, reason-free) shape of a failure: `.failed`, our close `.write` with that code, `.closeConnection`.
func isFailure(_ actions: [WebSocketAction], code: UInt16) -> Bool {
    guard actions.count >= 3 else { return false }
    let tail = actions.suffix(3)
    guard case .failed(let c, _) = tail[tail.startIndex], c == code,
          case .write(let frame) = tail[tail.startIndex + 1], frame.count >= 4, frame[0] == 0x88,
          UInt16(frame[2]) << 8 | UInt16(frame[3]) == code,
          tail.last == .closeConnection
    else { return false }
    return true
}

/// How many `.fragment` reports `bytes` makes, fed in one piece to a server-role codec.
func fragmentCount(_ bytes: [UInt8], limits: WebSocketLimits = .init()) -> Int {
    var codec = WebSocketCodec(role: .server, limits: limits)
    var count = 0
    codec.receive(bytes) { if $0 == .fragment { count += 1 } }
    return count
}
