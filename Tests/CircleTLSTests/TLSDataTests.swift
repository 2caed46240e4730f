import Testing
@testable import CircleTLS

@Suite struct TLSDataTests {
    @Test(arguments: [false, true])
    func dataFlowsBothWays(tls12: Bool) throws {
        let pair = try TLSPair(clientSettings: tls12 ? .tls12Only : .init())
        pair.handshake()
        #expect(pair.clientSends(Array("GET / HTTP/1.1\r\n\r\n".utf8)) == .ok)
        #expect(pair.serverReceived == Array("GET / HTTP/1.1\r\n\r\n".utf8))
        #expect(pair.serverSends(Array("HTTP/1.1 101 Switching Protocols\r\n\r\n".utf8)) == .ok)
        #expect(pair.clientReceived == Array("HTTP/1.1 101 Switching Protocols\r\n\r\n".utf8))
    }

    @Test func oneMebibyteEachWay() throws {
        let pair = try TLSPair()
        pair.handshake()
        let up = pattern(1 << 20, seed: 1), down = pattern(1 << 20, seed: 2)
        #expect(pair.clientSends(up) == .ok)
        #expect(pair.serverSends(down) == .ok)
        #expect(pair.serverReceived == up)
        #expect(pair.clientReceived == down)
    }

    @Test func ciphertextIsNotThePlaintext() throws {
        let pair = try TLSPair()
        pair.handshake()
        let secret = Array("a participant's words stay in the room".utf8)
        _ = secret.withUnsafeBytes { pair.client.send($0, output: &pair.toServer) }
        #expect(pair.toServer.count > secret.count)
        #expect(!pair.toServer.windows(ofCount: secret.count).contains { $0.elementsEqual(secret) })
    }

    @Test func recordsArrivingInAnyPiecesDecryptTheSame() throws {
        let pair = try TLSPair()
        pair.handshake()
        let message = pattern(40_000, seed: 3)   // three records
        for chunk in [1, 7, 5, 16_389, 16_390, 30_000] {
            pair.serverReceived = []
            #expect(pair.clientSends(message, chunk: chunk) == .ok)
            #expect(pair.serverReceived == message, "chunk \(chunk)")
        }
    }

    @Test func manyRecordsInOneReceiveAreAllRead() throws {
        let pair = try TLSPair()
        pair.handshake()
        var expected: [UInt8] = []
        for i in 0..<50 {
            let piece = pattern(100 + i, seed: UInt64(i + 10))
            expected += piece
            _ = piece.withUnsafeBytes { pair.client.send($0, output: &pair.toServer) }
        }
        pair.pump()
        #expect(pair.serverReceived == expected)
    }

    @Test func clientDataSentBeforeTheHandshakeGoesOutWhenItCompletes() throws {
        let pair = try TLSPair()
        let request = Array("GET /room HTTP/1.1\r\n\r\n".utf8)
        #expect(request.withUnsafeBytes { pair.client.send($0, output: &pair.toServer) } == .ok)
        #expect(pair.toServer.isEmpty)
        pair.handshake()
        #expect(pair.serverReceived == request)
    }

    @Test func tooMuchDataBeforeTheHandshakeFails() throws {
        let pair = try TLSPair()
        var output: [UInt8] = []
        let limit = TLSConnection.maxPendingPlaintext
        #expect(pattern(limit).withUnsafeBytes { pair.client.send($0, output: &output) } == .ok)
        let over = [UInt8(1)].withUnsafeBytes { pair.client.send($0, output: &output) }
        #expect(failure(over)?.contains("before the TLS handshake completed") == true)
        // The failure sticks.
        #expect(failure(pair.client.start(output: &output)) != nil)
        #expect(output.isEmpty)
        #expect(failure([UInt8(1)].withUnsafeBytes { pair.client.send($0, output: &output) }) != nil)
    }

    @Test func emptySendWritesNothing() throws {
        let pair = try TLSPair()
        pair.handshake()
        var output: [UInt8] = []
        #expect([UInt8]().withUnsafeBytes { pair.client.send($0, output: &output) } == .ok)
        #expect(output.isEmpty)
    }

    @Test func closeNotifyEndsEachDirection() throws {
        let pair = try TLSPair()
        pair.handshake()
        _ = pair.clientSends(Array("bye".utf8))
        pair.client.shutdown(output: &pair.toServer)
        #expect(!pair.toServer.isEmpty)
        pair.pump()
        #expect(pair.serverResult == .closed)
        #expect(pair.serverReceived == Array("bye".utf8))
        // The server may still answer (half close), then closes too.
        #expect(pair.serverSends(Array("ok".utf8)) == .ok)
        #expect(pair.clientReceived == Array("ok".utf8))
        pair.server.shutdown(output: &pair.toClient)
        pair.pump()
        #expect(pair.clientResult == .closed)
    }

    @Test func dataAndCloseInOneReadGiveBoth() throws {
        let pair = try TLSPair()
        pair.handshake()
        _ = Array("last words".utf8).withUnsafeBytes { pair.server.send($0, output: &pair.toClient) }
        pair.server.shutdown(output: &pair.toClient)
        pair.pump()
        #expect(pair.clientResult == .closed)
        #expect(pair.clientReceived == Array("last words".utf8))
        // Anything after the close is ignored.
        var plaintext: [UInt8] = [], output: [UInt8] = []
        let late = pattern(50).withUnsafeBytes { pair.client.receive($0, plaintext: &plaintext, output: &output) }
        #expect(late == .closed)
        #expect(plaintext.isEmpty)
    }

    @Test func sendAfterShutdownFails() throws {
        let pair = try TLSPair()
        pair.handshake()
        var output: [UInt8] = []
        pair.client.shutdown(output: &output)
        let closeNotify = output
        pair.client.shutdown(output: &output)
        #expect(output == closeNotify, "close_notify is sent once")
        #expect(failure([UInt8(1)].withUnsafeBytes { pair.client.send($0, output: &output) }) != nil)
        #expect(output == closeNotify)
    }

    @Test func shutdownBeforeTheHandshakeSendsNothing() throws {
        let pair = try TLSPair()
        var output: [UInt8] = []
        pair.client.shutdown(output: &output)
        pair.server.shutdown(output: &output)
        #expect(output.isEmpty)
    }
}

extension Array {
    /// Every run of `count` consecutive elements.
    func windows(ofCount count: Int) -> [ArraySlice<Element>] {
        count > self.count ? [] : (0...(self.count - count)).map { self[$0..<($0 + count)] }
    }
}
