import CircleBytes
import CircleWebSocket
import Testing

/// Every protocol violation fails the codec with its close code, and nothing is parsed afterwards.
@Suite struct WebSocketCodecErrorTests {
    @Test func unmaskedClientFrameIs1002() {
        #expect(isFailure(run(.server, RFCExampleTests.unmaskedHello), code: 1002))
    }

    @Test func maskedServerFrameIs1002() {
        #expect(isFailure(run(.client, RFCExampleTests.maskedHello), code: 1002))
    }

    @Test(arguments: [0x40, 0x20, 0x10] as [UInt8])
    func reservedBitIs1002(bit: UInt8) {
        #expect(isFailure(run(.server, rawFrame(first: 0x81 | bit, payload: utf8("x"))), code: 1002))
    }

    @Test(arguments: [3, 4, 5, 6, 7, 11, 12, 13, 14, 15] as [UInt8])
    func unknownOpcodeIs1002(opcode: UInt8) {
        #expect(isFailure(run(.server, rawFrame(first: 0x80 | opcode, payload: [])), code: 1002))
    }

    @Test func controlFrameOver125BytesIs1002() {
        let ping = rawFrame(first: 0x89, payload: [UInt8](repeating: 0x61, count: 126))
        #expect(isFailure(run(.server, ping), code: 1002))
    }

    @Test func controlFrameWithExtendedLengthIs1002() {
        let ping = rawFrame(first: 0x89, payload: [UInt8](repeating: 0x61, count: 5), lengthBytes: 2)
        #expect(isFailure(run(.server, ping), code: 1002))
    }

    @Test(arguments: [0x08, 0x09, 0x0A] as [UInt8])
    func fragmentedControlFrameIs1002(opcode: UInt8) {
        #expect(isFailure(run(.server, rawFrame(first: opcode, payload: [])), code: 1002))
    }

    @Test func continuationWithoutAMessageIs1002() {
        #expect(isFailure(run(.server, clientFrame(0x0, utf8("lo"))), code: 1002))
    }

    @Test func newMessageInsideAFragmentedOneIs1002() {
        let actions = run(.server, clientFrame(0x1, utf8("Hel"), fin: false) + clientFrame(0x2, utf8("lo")))
        #expect(isFailure(actions, code: 1002))
        #expect(actions.count == 3)  // the partial message is never delivered
    }

    @Test func sixtyFourBitLengthWithTopBitIs1002() {
        let frame: [UInt8] = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1]
        #expect(isFailure(run(.server, frame), code: 1002))
    }

    @Test func nonMinimalSixteenBitLengthIs1002() {
        #expect(isFailure(run(.server, rawFrame(first: 0x82, payload: [1, 2, 3], lengthBytes: 2)), code: 1002))
        #expect(isFailure(run(.server, rawFrame(first: 0x82, payload: [UInt8](repeating: 0, count: 125), lengthBytes: 2)), code: 1002))
        #expect(run(.server, rawFrame(first: 0x82, payload: [UInt8](repeating: 0, count: 126), lengthBytes: 2)).count == 1)
    }

    @Test func nonMinimalSixtyFourBitLengthIs1002() {
        #expect(isFailure(run(.server, rawFrame(first: 0x82, payload: [UInt8](repeating: 0, count: 200), lengthBytes: 8)), code: 1002))
        #expect(isFailure(run(.server, rawFrame(first: 0x82, payload: [UInt8](repeating: 0, count: 65535), lengthBytes: 8)), code: 1002))
    }

    @Test func frameOverTheLimitIs1009BeforeThePayloadArrives() {
        let limits = WebSocketLimits(maxFrameSize: 100, maxMessageSize: 1000)
        let header = Array(rawFrame(first: 0x82, payload: [UInt8](repeating: 0, count: 101)).prefix(4))  // no mask key yet
        #expect(isFailure(run(.server, header, limits: limits), code: 1009))
        #expect(run(.server, rawFrame(first: 0x82, payload: [UInt8](repeating: 0, count: 100)), limits: limits).count == 1)
    }

    @Test func hugeAnnouncedFrameIs1009WithoutAllocating() {
        let header: [UInt8] = [0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        #expect(isFailure(run(.server, header), code: 1009))
    }

    @Test func messageOverTheLimitIs1009() {
        let limits = WebSocketLimits(maxFrameSize: 100, maxMessageSize: 150)
        let ok = clientFrame(0x2, [UInt8](repeating: 1, count: 100), fin: false) + clientFrame(0x0, [UInt8](repeating: 2, count: 50))
        #expect(run(.server, ok, limits: limits) == [.binary([UInt8](repeating: 1, count: 100) + [UInt8](repeating: 2, count: 50))])
        let over = clientFrame(0x2, [UInt8](repeating: 1, count: 100), fin: false) + Array(clientFrame(0x0, [UInt8](repeating: 2, count: 51)).prefix(2))
        #expect(isFailure(run(.server, over, limits: limits), code: 1009))
    }

    @Test func invalidUtf8TextIs1007() {
        #expect(isFailure(run(.server, clientFrame(0x1, [0xC0, 0xAF])), code: 1007))
        #expect(isFailure(run(.server, clientFrame(0x1, [0xED, 0xA0, 0x80])), code: 1007))
        #expect(isFailure(run(.server, clientFrame(0x1, [0xF4, 0x90, 0x80, 0x80])), code: 1007))
    }

    @Test func invalidUtf8FailsAtTheFirstBadByteBeforeTheFrameEnds() {
        let frame = clientFrame(0x1, utf8("valid prefix ") + [0xF4, 0x90] + utf8(" and much more text to come"))
        let upToBadByte = Array(frame.prefix(2 + 4 + 13 + 2))  // header, key, prefix, the two bad bytes
        #expect(isFailure(run(.server, upToBadByte), code: 1007))
        #expect(run(.server, Array(frame.prefix(2 + 4 + 13 + 1))).isEmpty)  // F4 alone may still be valid
    }

    @Test func invalidUtf8FailsInAnUnfinishedFragmentedMessage() {
        let stream = clientFrame(0x1, utf8("ok"), fin: false) + clientFrame(0x0, [0xFF], fin: false)
        #expect(isFailure(run(.server, stream), code: 1007))
    }

    @Test func truncatedUtf8AtMessageEndIs1007() {
        #expect(isFailure(run(.server, clientFrame(0x1, [0x61, 0xE2, 0x82])), code: 1007))
        let fragments = clientFrame(0x1, [0xE2], fin: false) + clientFrame(0x0, [0x82], fin: true)
        #expect(isFailure(run(.server, fragments), code: 1007))
    }

    @Test func utf8SequenceMayStraddleFragments() {
        let fragments = clientFrame(0x1, [0x61, 0xE2], fin: false) + clientFrame(0x0, [0x82], fin: false) + clientFrame(0x0, [0xAC])
        #expect(run(.server, fragments) == [.text(utf8("a€"))])
    }

    @Test func binaryIsNotUtf8Checked() {
        #expect(run(.server, clientFrame(0x2, [0xFF, 0xC0])) == [.binary([0xFF, 0xC0])])
    }

    @Test func nothingIsParsedAfterAFailure() {
        var codec = WebSocketCodec(role: .server)
        let actions = run(&codec, [clientFrame(0x5, []) + RFCExampleTests.maskedHello, RFCExampleTests.maskedHello])
        #expect(actions.count == 3 && isFailure(actions, code: 1002))
        #expect(codec.state == .closed)
        #expect(codec.startClose(code: 1000, reason: "") == nil)
    }

    @Test func errorCloseFrameCarriesTheCodeAndIsMaskedInClientRole() {
        var codec = WebSocketCodec(role: .client)
        var writes: [[UInt8]] = []
        codec.receive(RFCExampleTests.maskedHello) { if case .write(let b) = $0 { writes.append(b) } }
        #expect(writes.count == 1)
        #expect(writes[0][1] & 0x80 != 0)
        let frame = unmasked(writes[0])
        #expect(frame[0] == 0x88 && frame[2] == 0x03 && frame[3] == 0xEA)  // 1002
        #expect(Utf8Validator.isValid(Array(frame[4...])))
    }
}
