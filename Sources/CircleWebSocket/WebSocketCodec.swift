import CircleCrypto
import CircleBytes

/// One WebSocket endpoint's protocol state (RFC 6455): incremental frame decoding, reassembly of fragmented
/// messages, incremental UTF-8 validation, control frames and the close handshake. Pure: bytes in, actions out.
///
/// Decisions where the RFC leaves room:
/// - Strict: a payload length that is not minimally encoded (§5.2 "the minimal number of bytes MUST be used")
///   is a protocol error (1002), like every other sender MUST the decoder can see.
/// - Close codes accepted from the peer: 1000–1003, 1007–1014 and 3000–4999.
/// - After we sent a close, frames are still decoded and checked (sizes, UTF-8, framing) but messages, pings
///   and pongs are not delivered, and no pong is sent.
///
/// Memory: an idle codec holds no buffer (well under 128 bytes in all). A message buffer grows with the bytes
/// that actually arrived, never with what a header announces; a message that arrives in one read is one
/// allocation of its exact size, unmasked straight into place.
public struct WebSocketCodec: Sendable {
    /// Where the close handshake stands.
    public enum State: Sendable, Equatable {
        /// Messages flow both ways.
        case open
        /// We sent a close frame and wait for the peer's.
        case closeSent
        /// The connection must be (or has been) closed; input is ignored.
        case closed
    }

    /// Where the decoder stands within the current frame.
    private enum Phase {
        case first                              // FIN, RSV1-3, opcode
        case second                             // MASK, 7-bit length
        case length(total: UInt8, left: UInt8)  // 16- or 64-bit extended length
        case mask(left: UInt8)                  // masking key
        case payload
    }

    // Stored properties are laid out in declaration order: words first, then the bytes packed together (a codec
    // is kept per connection, so every idle one pays for each word and each hole here).

    /// The caps applied to incoming frames and messages.
    public let limits: WebSocketLimits
    /// The payload length while its bytes are read, then the payload bytes still to come.
    private var remaining = 0
    // The message being reassembled, and the control frame being collected.
    private var message: [UInt8] = []
    private var control: [UInt8] = []
    private var maskKey: UInt32 = 0
    private var utf8 = Utf8Validator()

    /// The side of the connection this codec plays.
    public let role: WebSocketRole
    /// The close handshake's progress.
    public private(set) var state: State = .open
    // The frame being decoded.
    private var phase: Phase = .first
    private var fin = false
    private var opcode: WebSocketOpcode = .continuation
    /// The position within the masking key of the next payload byte (the payload offset modulo 4).
    private var maskOffset: UInt8 = 0
    private var messageOpcode: WebSocketOpcode?

    /// A codec in state `.open`, as after a successful handshake.
    public init(role: WebSocketRole, limits: WebSocketLimits = .init()) {
        self.role = role
        self.limits = limits
    }

    /// Feeds bytes read from the socket, in any split. Calls `emit` for each resulting action, in order.
    /// After `.closeConnection` it emits nothing more and ignores further input. `emit` must not touch this
    /// codec.
    public mutating func receive(_ bytes: UnsafeRawBufferPointer, emit: (WebSocketAction) -> Void) {
        var i = 0
        let n = bytes.count
        while i < n && state != .closed {
            if case .payload = phase {
                let take = min(remaining, n - i)
                takePayload(UnsafeRawBufferPointer(rebasing: bytes[i..<(i + take)]), emit)
                i += take
            } else {
                takeHeaderByte(bytes[i], emit)
                i += 1
            }
        }
    }

    /// Feeds bytes from an array (convenience for tests and tools).
    public mutating func receive(_ bytes: [UInt8], emit: (WebSocketAction) -> Void) {
        bytes.withUnsafeBytes { receive($0, emit: emit) }
    }

    /// Starts the close handshake: the close frame to send (masked in client role), or nil when a close was
    /// already sent or the codec is closed. Wait for `.closeConnection` (or a timeout) afterwards.
    public mutating func startClose(code: UInt16, reason: String) -> [UInt8]? {
        guard state == .open else { return nil }
        state = .closeSent
        return frame(.close, WebSocketFrame.closePayload(code: code, reason: reason))
    }

    /// Encodes one outbound message (or a keepalive `.ping`) as a single frame, masked with a fresh random key
    /// in client role. Send nothing but control frames once a close was sent.
    public func encodeMessage(_ opcode: WebSocketOpcode, _ payload: [UInt8]) -> [UInt8] {
        frame(opcode, payload)
    }

    private func frame(_ opcode: WebSocketOpcode, _ payload: [UInt8]) -> [UInt8] {
        var key: (UInt8, UInt8, UInt8, UInt8)?
        if role == .client {
            let r = Crypto.randomBytes(4)
            key = (r[0], r[1], r[2], r[3])
        }
        return WebSocketFrame.make(opcode: opcode, payload: payload, maskKey: key)
    }

    // MARK: - Frame header

    private mutating func takeHeaderByte(_ b: UInt8, _ emit: (WebSocketAction) -> Void) {
        switch phase {
        case .first:
            guard b & 0x70 == 0 else { return fail(1002, "Reserved bits set without an extension", emit) }
            guard let op = WebSocketOpcode(rawValue: b & 0x0F) else { return fail(1002, "Unknown opcode", emit) }
            let isFinal = b & 0x80 != 0
            if op.isControl {
                guard isFinal else { return fail(1002, "Fragmented control frame", emit) }
            } else if op == .continuation {
                guard messageOpcode != nil else { return fail(1002, "Continuation frame without a message", emit) }
            } else {
                guard messageOpcode == nil else { return fail(1002, "Data frame inside a fragmented message", emit) }
                messageOpcode = op
            }
            fin = isFinal
            opcode = op
            phase = .second
        case .second:
            let masked = b & 0x80 != 0
            guard masked == (role == .server) else {
                let reason = role == .server ? "Unmasked frame from a client" : "Masked frame from a server"
                return fail(1002, reason, emit)
            }
            let short = b & 0x7F
            guard !opcode.isControl || short <= 125 else {
                return fail(1002, "Control frame payload over 125 bytes", emit)
            }
            remaining = 0
            switch short {
            case 126: phase = .length(total: 2, left: 2)
            case 127: phase = .length(total: 8, left: 8)
            default:
                remaining = Int(short)
                lengthKnown(emit)
            }
        case .length(let total, let left):
            if total == 8 && left == 8 && b & 0x80 != 0 {
                return fail(1002, "Payload length with the most significant bit set", emit)
            }
            // Below 2^63 (the top bit was refused above), so it fits an Int.
            remaining = remaining << 8 | Int(b)
            guard left == 1 else {
                phase = .length(total: total, left: left - 1)
                return
            }
            guard remaining > (total == 2 ? 125 : 0xFFFF) else {
                return fail(1002, "Payload length not minimally encoded", emit)
            }
            lengthKnown(emit)
        case .mask(let left):
            withUnsafeMutableBytes(of: &maskKey) { $0[Int(4 - left)] = b }
            if left > 1 {
                phase = .mask(left: left - 1)
            } else {
                startPayload(emit)
            }
        case .payload:
            preconditionFailure("payload bytes are not header bytes")
        }
    }

    private mutating func lengthKnown(_ emit: (WebSocketAction) -> Void) {
        guard remaining <= limits.maxFrameSize else {
            return fail(1009, "Frame exceeds the size limit", emit)
        }
        // `message.count` never exceeds the limit (checked frame by frame), so this cannot overflow.
        if !opcode.isControl && remaining > limits.maxMessageSize - message.count {
            return fail(1009, "Message exceeds the size limit", emit)
        }
        if role == .server {
            phase = .mask(left: 4)
        } else {
            startPayload(emit)
        }
    }

    private mutating func startPayload(_ emit: (WebSocketAction) -> Void) {
        phase = .payload
        maskOffset = 0
        if remaining == 0 { finishFrame(emit) }
    }

    // MARK: - Payload

    private mutating func takePayload(_ chunk: UnsafeRawBufferPointer, _ emit: (WebSocketAction) -> Void) {
        let key: UInt32? = role == .server ? maskKey : nil
        if opcode.isControl {
            Self.append(chunk, to: &control, frameRemaining: remaining, key: key, offset: Int(maskOffset),
                        growthCap: control.count + remaining)
        } else {
            let start = message.count
            // More frames of this message may follow: grow towards the message cap, not the frame's end, so that
            // a message in many small frames costs amortized linear time, not a copy of itself per frame.
            Self.append(chunk, to: &message, frameRemaining: remaining, key: key, offset: Int(maskOffset),
                        growthCap: fin ? start + remaining : limits.maxMessageSize)
            if messageOpcode == .text {
                let valid = message.withUnsafeBytes { utf8.feed(UnsafeRawBufferPointer(rebasing: $0[start...])) }
                guard valid else { return fail(1007, "Text message is not valid UTF-8", emit) }
            }
        }
        maskOffset = UInt8(truncatingIfNeeded: (Int(maskOffset) + chunk.count) & 3)
        remaining -= chunk.count
        if remaining == 0 { finishFrame(emit) }
    }

    /// Appends `chunk`, unmasked, to `buffer`. A buffer that is empty when a whole frame arrives at once is
    /// created at its exact size and filled in one pass; otherwise capacity grows geometrically with the bytes
    /// received, capped at `growthCap` (never below the end of the current frame), and the bytes are unmasked in
    /// place.
    private static func append(
        _ chunk: UnsafeRawBufferPointer, to buffer: inout [UInt8], frameRemaining: Int, key: UInt32?, offset: Int,
        growthCap: Int
    ) {
        let count = chunk.count
        if buffer.isEmpty && count == frameRemaining {
            buffer = [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
                if let base = out.baseAddress, count > 0 {
                    if let key {
                        WebSocketMask.apply(key: key, offset: offset, from: chunk, to: UnsafeMutableRawPointer(base))
                    } else {
                        UnsafeMutableRawPointer(base).copyMemory(from: chunk.baseAddress!, byteCount: count)
                    }
                }
                initialized = count
            }
            return
        }
        let start = buffer.count
        let needed = start + count
        if buffer.capacity < needed {
            buffer.reserveCapacity(min(max(start + frameRemaining, growthCap), max(needed, buffer.capacity * 2)))
        }
        buffer.append(contentsOf: chunk)
        if let key {
            buffer.withUnsafeMutableBytes { WebSocketMask.applyInPlace(key: key, offset: offset, $0, start..<needed) }
        }
    }

    private mutating func finishFrame(_ emit: (WebSocketAction) -> Void) {
        phase = .first
        if opcode.isControl {
            let payload = control
            control = []
            return handleControl(opcode, payload, emit)
        }
        guard fin, let kind = messageOpcode else {
            if state == .open { emit(.fragment) }
            return
        }
        messageOpcode = nil
        let payload = message
        message = []
        if kind == .text {
            let complete = utf8.isComplete
            utf8.reset()
            guard complete else { return fail(1007, "Text message ends inside a UTF-8 sequence", emit) }
        }
        guard state == .open else { return }
        emit(kind == .text ? .text(payload) : .binary(payload))
    }

    // MARK: - Control frames and closing

    private mutating func handleControl(
        _ opcode: WebSocketOpcode, _ payload: [UInt8], _ emit: (WebSocketAction) -> Void
    ) {
        switch opcode {
        case .ping:
            guard state == .open else { return }
            emit(.sendPong(frame(.pong, payload)))
            emit(.ping(payload))
        case .pong:
            guard state == .open else { return }
            emit(.pong(payload))
        case .close:
            handleClose(payload, emit)
        default:
            preconditionFailure("not a control opcode")
        }
    }

    private mutating func handleClose(_ payload: [UInt8], _ emit: (WebSocketAction) -> Void) {
        var code: UInt16?
        var reason = ""
        if payload.count == 1 { return fail(1002, "Close payload of one byte", emit) }
        if payload.count >= 2 {
            let received = UInt16(payload[0]) << 8 | UInt16(payload[1])
            guard WebSocketCloseCode.isValidOnWire(received) else { return fail(1002, "Invalid close code", emit) }
            let text = payload[2...]
            guard text.withUnsafeBytes(Utf8Validator.isValid) else {
                return fail(1007, "Close reason is not valid UTF-8", emit)
            }
            code = received
            reason = String(decoding: text, as: UTF8.self)
        }
        emit(.peerClosed(code: code, reason: reason))
        if state == .open {
            emit(.write(frame(.close, code.map { WebSocketFrame.closePayload(code: $0, reason: "") } ?? [])))
        }
        finish(emit)
    }

    /// Fails the connection: reports why, sends our close with `code` unless one was already sent, and closes.
    private mutating func fail(_ code: UInt16, _ reason: String, _ emit: (WebSocketAction) -> Void) {
        emit(.failed(code: code, reason: reason))
        if state == .open {
            emit(.write(frame(.close, WebSocketFrame.closePayload(code: code, reason: reason))))
        }
        finish(emit)
    }

    private mutating func finish(_ emit: (WebSocketAction) -> Void) {
        state = .closed
        messageOpcode = nil
        message = []
        control = []
        emit(.closeConnection)
    }
}
