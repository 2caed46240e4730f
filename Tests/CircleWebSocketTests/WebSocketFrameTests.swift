import CircleBytes
import CircleWebSocket
import Testing

/// RFC 6455 §5.7 examples, decoded and encoded.
@Suite struct RFCExampleTests {
    static let hello = utf8("Hello")
    static let unmaskedHello: [UInt8] = [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]
    static let maskedHello: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
    static let fragmented: [UInt8] = [0x01, 0x03, 0x48, 0x65, 0x6C, 0x80, 0x02, 0x6C, 0x6F]
    static let unmaskedPing: [UInt8] = [0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]
    static let maskedPong: [UInt8] = [0x8A, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
    static let bytes256 = (0..<256).map { UInt8($0 & 0xFF) }
    static let bytes64K = (0..<65536).map { UInt8(($0 * 7) & 0xFF) }
    static let binary256: [UInt8] = [0x82, 0x7E, 0x01, 0x00] + bytes256
    static let binary64K: [UInt8] = [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0] + bytes64K

    @Test func unmaskedTextDecodesInClientRole() {
        #expect(run(.client, Self.unmaskedHello) == [.text(Self.hello)])
    }

    @Test func maskedTextDecodesInServerRole() {
        #expect(run(.server, Self.maskedHello) == [.text(Self.hello)])
    }

    @Test func fragmentedTextReassembles() {
        #expect(run(.client, Self.fragmented) == [.text(Self.hello)])
    }

    @Test func unmaskedPingIsAnsweredWithPong() {
        #expect(run(.client, Self.unmaskedPing) == [.sendPong([0x8A, 0x05] + Self.hello), .ping(Self.hello)])
    }

    @Test func maskedPongIsReported() {
        #expect(run(.server, Self.maskedPong) == [.pong(Self.hello)])
    }

    @Test func pingIsAnsweredWithUnmaskedPongInServerRole() {
        let ping = rawFrame(first: 0x89, payload: Self.hello)
        #expect(run(.server, ping) == [.sendPong([0x8A, 0x05] + Self.hello), .ping(Self.hello)])
    }

    @Test func extendedLengthsDecode() {
        #expect(run(.client, Self.binary256) == [.binary(Self.bytes256)])
        #expect(run(.client, Self.binary64K) == [.binary(Self.bytes64K)])
        #expect(run(.server, rawFrame(first: 0x82, payload: Self.bytes64K)) == [.binary(Self.bytes64K)])
    }

    @Test func encoderProducesTheExampleBytes() {
        #expect(WebSocketFrame.make(opcode: .text, payload: Self.hello) == Self.unmaskedHello)
        #expect(WebSocketFrame.make(opcode: .text, payload: Self.hello, maskKey: rfcKey) == Self.maskedHello)
        var out: [UInt8] = []
        WebSocketFrame.encode(opcode: .text, payload: utf8("Hel"), fin: false, into: &out)
        WebSocketFrame.encode(opcode: .continuation, payload: utf8("lo"), into: &out)
        #expect(out == Self.fragmented)
        #expect(WebSocketFrame.make(opcode: .ping, payload: Self.hello) == Self.unmaskedPing)
        #expect(WebSocketFrame.make(opcode: .pong, payload: Self.hello, maskKey: rfcKey) == Self.maskedPong)
        #expect(WebSocketFrame.make(opcode: .binary, payload: Self.bytes256) == Self.binary256)
        #expect(WebSocketFrame.make(opcode: .binary, payload: Self.bytes64K) == Self.binary64K)
    }

    @Test func encoderMasksLongPayloadsAtEveryOffset() {
        for n in [0, 1, 7, 8, 9, 125, 126, 1000, 65535, 65536] {
            let payload = (0..<n).map { UInt8(($0 * 31) & 0xFF) }
            #expect(WebSocketFrame.make(opcode: .binary, payload: payload, maskKey: rfcKey) == rawFrame(first: 0x82, payload: payload))
        }
    }

    @Test func headerSizes() {
        #expect(WebSocketFrame.headerSize(payloadCount: 125, masked: false) == 2)
        #expect(WebSocketFrame.headerSize(payloadCount: 126, masked: false) == 4)
        #expect(WebSocketFrame.headerSize(payloadCount: 65535, masked: true) == 8)
        #expect(WebSocketFrame.headerSize(payloadCount: 65536, masked: false) == 10)
        #expect(WebSocketFrame.headerSize(payloadCount: 65536, masked: true) == 14)
    }

    @Test func closePayloadTruncatesAtACharacterBoundary() {
        #expect(WebSocketFrame.closePayload(code: 1000, reason: "bye") == [0x03, 0xE8] + utf8("bye"))
        let long = String(repeating: "a", count: 122) + "€"  // 125 bytes: the euro sign would be split at 123
        let payload = WebSocketFrame.closePayload(code: 1001, reason: long)
        #expect(payload.count == 2 + 122)
        #expect(Utf8Validator.isValid(Array(payload[2...])))
        #expect(WebSocketFrame.closePayload(code: 1001, reason: String(repeating: "b", count: 200)).count == 125)
    }
}

/// Feeding any split of a stream gives the same actions.
@Suite struct SplitInvarianceTests {
    @Test func serverRoleStream() {
        let stream = RFCExampleTests.maskedHello
            + clientFrame(0x1, utf8("Hél"), fin: false) + clientFrame(0x9, utf8("p")) + clientFrame(0x0, utf8("lo €"))
            + rawFrame(first: 0x82, payload: RFCExampleTests.bytes256)
            + RFCExampleTests.maskedPong
            + clientFrame(0x1, [])
            + clientFrame(0x8, closeBody(1000, utf8("done")))
        let whole = run(.server, stream)
        #expect(whole == [
            .text(utf8("Hello")), .sendPong([0x8A, 0x01] + utf8("p")), .ping(utf8("p")), .text(utf8("Héllo €")),
            .binary(RFCExampleTests.bytes256), .pong(utf8("Hello")), .text([]),
            .peerClosed(code: 1000, reason: "done"), .write([0x88, 0x02, 0x03, 0xE8]), .closeConnection,
        ])
        for chunks in splits(of: stream) {
            var codec = WebSocketCodec(role: .server)
            #expect(run(&codec, chunks) == whole)
        }
    }

    @Test func clientRoleStream() {
        let stream = RFCExampleTests.unmaskedHello + RFCExampleTests.fragmented + RFCExampleTests.unmaskedPing
            + RFCExampleTests.binary256 + serverFrame(0x8, [])
        let whole = run(.client, stream)
        #expect(whole.count == 8)
        for chunks in splits(of: stream) {
            var codec = WebSocketCodec(role: .client)
            #expect(run(&codec, chunks) == whole)
        }
    }

    @Test func failureStreamFailsTheSameAtEverySplit() {
        let stream = clientFrame(0x1, utf8("ok")) + clientFrame(0x1, [0x61, 0xED, 0xA0, 0x80, 0x62])
        let whole = run(.server, stream)
        #expect(whole.first == .text(utf8("ok")))
        #expect(isFailure(whole, code: 1007))
        for chunks in splits(of: stream) {
            var codec = WebSocketCodec(role: .server)
            #expect(run(&codec, chunks) == whole)
        }
    }
}
