import CircleWebSocket
import Testing

@Suite struct WebSocketCloseTests {
    @Test func peerCloseIsEchoedWithTheSameCode() {
        var codec = WebSocketCodec(role: .server)
        let actions = run(&codec, [clientFrame(0x8, closeBody(1001, utf8("bye")))])
        #expect(actions == [.peerClosed(code: 1001, reason: "bye"), .write([0x88, 0x02, 0x03, 0xE9]), .closeConnection])
        #expect(codec.state == .closed)
    }

    @Test func emptyPeerCloseIsEchoedEmpty() {
        #expect(run(.server, clientFrame(0x8, [])) == [.peerClosed(code: nil, reason: ""), .write([0x88, 0x00]), .closeConnection])
    }

    @Test(arguments: [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999] as [UInt16])
    func validCloseCodesAreEchoed(code: UInt16) {
        let actions = run(.server, clientFrame(0x8, closeBody(code)))
        #expect(actions == [.peerClosed(code: code, reason: ""), .write([0x88, 0x02] + closeBody(code)), .closeConnection])
    }

    @Test(arguments: [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] as [UInt16])
    func invalidCloseCodeIs1002(code: UInt16) {
        #expect(isFailure(run(.server, clientFrame(0x8, closeBody(code))), code: 1002))
    }

    @Test func onePayloadByteCloseIs1002() {
        #expect(isFailure(run(.server, clientFrame(0x8, [0x03])), code: 1002))
    }

    @Test func invalidUtf8CloseReasonIs1007() {
        #expect(isFailure(run(.server, clientFrame(0x8, closeBody(1000, [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80]))), code: 1007))
    }

    @Test func ourCloseThenThePeersEndsWithoutEcho() {
        var codec = WebSocketCodec(role: .server)
        let close = codec.startClose(code: 1001, reason: "going")
        #expect(close == [0x88, 0x07, 0x03, 0xE9] + utf8("going"))
        #expect(codec.state == .closeSent)
        #expect(codec.startClose(code: 1000, reason: "") == nil)
        let actions = run(&codec, [clientFrame(0x8, closeBody(1001))])
        #expect(actions == [.peerClosed(code: 1001, reason: ""), .closeConnection])
        #expect(codec.state == .closed)
    }

    @Test func clientCloseIsMasked() throws {
        var codec = WebSocketCodec(role: .client)
        let started = codec.startClose(code: 1000, reason: "")
        let close = try #require(started)
        #expect(close[1] == 0x82)
        #expect(unmasked(close) == [0x88, 0x02, 0x03, 0xE8])
    }

    @Test func dataAfterOurCloseIsCheckedButNotDelivered() {
        var codec = WebSocketCodec(role: .server)
        _ = codec.startClose(code: 1000, reason: "")
        let quiet = run(&codec, [RFCExampleTests.maskedHello + rawFrame(first: 0x89, payload: []) + RFCExampleTests.maskedPong])
        #expect(quiet.isEmpty)
        let bad = run(&codec, [clientFrame(0x1, [0xFF])])
        #expect(bad == [.failed(code: 1007, reason: "Text message is not valid UTF-8"), .closeConnection])  // no second close
    }

    @Test func controlFramesMayInterleaveFragments() {
        let stream = clientFrame(0x2, [1], fin: false) + clientFrame(0xA, utf8("k")) + clientFrame(0x0, [2], fin: false)
            + clientFrame(0x8, closeBody(1000))
        #expect(run(.server, stream) == [.pong(utf8("k")), .peerClosed(code: 1000, reason: ""), .write([0x88, 0x02, 0x03, 0xE8]), .closeConnection])
    }

    @Test func inputAfterCloseConnectionIsIgnored() {
        var codec = WebSocketCodec(role: .server)
        let actions = run(&codec, [clientFrame(0x8, []) + RFCExampleTests.maskedHello, RFCExampleTests.maskedHello])
        #expect(actions.last == .closeConnection && actions.count == 3)
    }
}

@Suite struct WebSocketCodecTests {
    @Test func clientMessagesRoundTripThroughAServer() {
        let client = WebSocketCodec(role: .client)
        let frame = client.encodeMessage(.text, utf8("hi there, server"))
        #expect(frame[1] & 0x80 != 0)
        #expect(run(.server, frame) == [.text(utf8("hi there, server"))])
        let server = WebSocketCodec(role: .server)
        #expect(server.encodeMessage(.binary, [1, 2, 3]) == [0x82, 0x03, 1, 2, 3])
    }

    @Test func emptyMessagesAreDelivered() {
        #expect(run(.server, clientFrame(0x1, []) + clientFrame(0x2, [])) == [.text([]), .binary([])])
        #expect(run(.server, clientFrame(0x1, [], fin: false) + clientFrame(0x0, [])) == [.text([])])
    }

    @Test func manyFragmentsReassembleInOrder() {
        var stream: [UInt8] = []
        var expected: [UInt8] = []
        for i in 0..<300 {
            let piece = [UInt8](repeating: UInt8(i & 0xFF), count: i % 7)
            expected += piece
            stream += clientFrame(i == 0 ? 0x2 : 0x0, piece, fin: i == 299)
        }
        #expect(run(.server, stream) == [.binary(expected)])
    }

    @Test func idleSessionIsSmall() {
        #expect(MemoryLayout<WebSocketCodec>.size <= 64)
    }
}
