// The WebSocket frame decoder in the server role. A frame stream fed whole, byte by byte or at a random split gives
// the same actions; every text message is valid UTF-8 by the standard library's own check; and every message
// delivered, encoded again (fragmented and masked as a client would, or as a server frame for a client codec),
// decodes to itself. (The UTF-8 validator itself is the `bytes` target's.)
import CircleWebSocket

/// Small caps, so the fuzzer reaches the size errors with small inputs.
let smallLimits = WebSocketLimits(maxFrameSize: 300, maxMessageSize: 700)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebSocket(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: count)
    let seed = fnv1a(input)
    let plans = splits(count: count, seed: seed)
    for limits in [WebSocketLimits(), smallLimits] {
        let whole = actions(input, plans[0], limits)
        for plan in plans.dropFirst() {
            let split = actions(input, plan, limits)
            require(split == whole, "actions differ when split: \(whole) vs \(split)")
        }
        var random = SplitMix64(seed: seed)
        for action in whole { check(action, limits, &random) }
    }
    return 0
}

/// The actions of a fresh server codec fed `input` in chunks ending at `ends`.
func actions(_ input: UnsafeRawBufferPointer, _ ends: [Int], _ limits: WebSocketLimits,
             role: WebSocketRole = .server) -> [WebSocketAction] {
    var codec = WebSocketCodec(role: role, limits: limits)
    var out: [WebSocketAction] = []
    var start = 0
    for end in ends {
        codec.receive(UnsafeRawBufferPointer(rebasing: input[start..<end])) { out.append($0) }
        start = end
    }
    if let close = out.firstIndex(of: .closeConnection) {
        require(close == out.count - 1, "actions after closeConnection")
        require(codec.state == .closed, "closeConnection but the codec is \(codec.state)")
    }
    return out
}

func check(_ action: WebSocketAction, _ limits: WebSocketLimits, _ random: inout SplitMix64) {
    switch action {
    case .text(let payload):
        require(String(validating: payload, as: UTF8.self) != nil, "a text message is not valid UTF-8")
        roundTrip(.text, payload, limits, &random)
    case .binary(let payload):
        roundTrip(.binary, payload, limits, &random)
    case .ping(let payload), .pong(let payload):
        require(payload.count <= 125, "control payload over 125 bytes")
    case .sendPong(let frame):
        // The whole pong frame: a client reads it as one pong of at most 125 bytes.
        let read = frame.withUnsafeBytes { actions($0, [$0.count], WebSocketLimits(), role: .client) }
        guard read.count == 1, case .pong(let payload) = read[0] else { return require(false, "sendPong is \(read)") }
        require(payload.count <= 125, "pong payload over 125 bytes")
    case .peerClosed(let code, let reason):
        // Our echo of a close, decoded by a client, gives the same code back.
        if let code {
            require(WebSocketCloseCode.isValidOnWire(code), "close code \(code) accepted")
            let payload = WebSocketFrame.closePayload(code: code, reason: reason)
            let frame = WebSocketFrame.make(opcode: .close, payload: payload)
            let echoed = frame.withUnsafeBytes { actions($0, [$0.count], limits, role: .client) }
            require(echoed.first == .peerClosed(code: code, reason: reason), "close frame does not round-trip")
        }
    case .failed(let code, _):
        require([1002, 1007, 1009].contains(code), "failed with code \(code)")
    case .write, .fragment, .closeConnection:
        break
    }
}

/// `payload`, as a client would send it (in random fragments within the frame cap, masked, a ping after the first),
/// and as one server frame to a client codec, decodes back to itself.
func roundTrip(_ opcode: WebSocketOpcode, _ payload: [UInt8], _ limits: WebSocketLimits, _ random: inout SplitMix64) {
    var stream: [UInt8] = []
    var at = 0
    var first = true
    repeat {
        let step = min(limits.maxFrameSize, Int(random.next() % UInt64(payload.count + 1)))
        let end = random.next() % 4 == 0 ? min(payload.count, at + step) : min(payload.count, at + limits.maxFrameSize)
        let r = random.next()
        let key = (UInt8(truncatingIfNeeded: r), UInt8(truncatingIfNeeded: r >> 8), UInt8(truncatingIfNeeded: r >> 16),
                   UInt8(truncatingIfNeeded: r >> 24))
        WebSocketFrame.encode(opcode: first ? opcode : .continuation, payload: Array(payload[at..<end]),
                              fin: end == payload.count, maskKey: key, into: &stream)
        if first && end < payload.count {
            WebSocketFrame.encode(opcode: .ping, payload: [1, 2, 3], maskKey: key, into: &stream)
        }
        first = false
        at = end
    } while at < payload.count
    let decoded = stream.withUnsafeBytes { actions($0, [$0.count], limits) }
    let message: WebSocketAction = opcode == .text ? .text(payload) : .binary(payload)
    require(decoded.last == message, "a client-encoded message does not decode to itself")

    let server = WebSocketCodec(role: .server, limits: limits).encodeMessage(opcode, payload)
    let received = server.withUnsafeBytes { actions($0, [$0.count], WebSocketLimits(), role: .client) }
    require(received == [message], "a server-encoded message does not decode to itself")
}
