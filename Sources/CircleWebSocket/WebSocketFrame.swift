/// Encodes single frames (RFC 6455 §5.2). A broadcast is encoded once and the same bytes go to every peer.
public enum WebSocketFrame {
    /// The largest close reason that fits a control frame next to the 2-byte code.
    public static let maxCloseReasonBytes = 123

    /// Bytes of the frame header for a payload of `payloadCount` bytes, with or without a mask key.
    public static func headerSize(payloadCount: Int, masked: Bool) -> Int {
        let length = payloadCount <= 125 ? 0 : payloadCount <= 0xFFFF ? 2 : 8
        return 2 + length + (masked ? 4 : 0)
    }

    /// Appends one frame to `out`. Client role passes a 4-byte mask key (the payload is masked with it);
    /// server role passes nil. Lengths use the minimal encoding. Does not check control-frame rules: callers
    /// send control frames of at most 125 bytes with `fin` set.
    public static func encode(
        opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer, fin: Bool = true,
        maskKey: (UInt8, UInt8, UInt8, UInt8)? = nil, into out: inout [UInt8]
    ) {
        let count = payload.count
        out.reserveCapacity(out.count + headerSize(payloadCount: count, masked: maskKey != nil) + count)
        out.append((fin ? 0x80 : 0) | opcode.rawValue)
        let maskBit: UInt8 = maskKey == nil ? 0 : 0x80
        if count <= 125 {
            out.append(maskBit | UInt8(count))
        } else if count <= 0xFFFF {
            out.append(maskBit | 126)
            out.append(UInt8(truncatingIfNeeded: count >> 8))
            out.append(UInt8(truncatingIfNeeded: count))
        } else {
            out.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) {
                out.append(UInt8(truncatingIfNeeded: UInt64(count) >> UInt64(shift)))
            }
        }
        guard let k = maskKey else {
            out.append(contentsOf: payload)
            return
        }
        out.append(k.0); out.append(k.1); out.append(k.2); out.append(k.3)
        let start = out.count
        out.append(contentsOf: payload)
        let key = WebSocketMask.key(k)
        out.withUnsafeMutableBytes { WebSocketMask.applyInPlace(key: key, offset: 0, $0, start..<(start + count)) }
    }

    /// Appends one frame to `out`; see `encode(opcode:payload:fin:maskKey:into:)` with a raw buffer.
    public static func encode(
        opcode: WebSocketOpcode, payload: [UInt8], fin: Bool = true,
        maskKey: (UInt8, UInt8, UInt8, UInt8)? = nil, into out: inout [UInt8]
    ) {
        payload.withUnsafeBytes { encode(opcode: opcode, payload: $0, fin: fin, maskKey: maskKey, into: &out) }
    }

    /// One whole frame as a new array of exactly its size.
    public static func make(
        opcode: WebSocketOpcode, payload: [UInt8], fin: Bool = true, maskKey: (UInt8, UInt8, UInt8, UInt8)? = nil
    ) -> [UInt8] {
        var out: [UInt8] = []
        encode(opcode: opcode, payload: payload, fin: fin, maskKey: maskKey, into: &out)
        return out
    }

    /// A close frame's payload: the code big-endian, then `reason` in UTF-8, cut at a character boundary so the
    /// payload fits the 125-byte control frame limit.
    public static func closePayload(code: UInt16, reason: String) -> [UInt8] {
        var utf8 = Array(reason.utf8)
        if utf8.count > maxCloseReasonBytes {
            var cut = maxCloseReasonBytes
            while cut > 0 && utf8[cut] & 0xC0 == 0x80 { cut -= 1 }  // never split a sequence
            utf8.removeSubrange(cut...)
        }
        return [UInt8(code >> 8), UInt8(code & 0xFF)] + utf8
    }
}
