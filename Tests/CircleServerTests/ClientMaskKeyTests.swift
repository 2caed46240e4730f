import CircleClient
import CircleHTTP
import CircleLoop
import CircleTestSupport
import CircleWebSocket
import Testing

/// `WebSocketClient` (the load tool's and the cluster relay's client) masks every frame with a key of its own (RFC
/// 6455 §5.3), drawn from a pool of random bytes refilled every 64 frames: what a server reads across refills.
@Suite struct ClientMaskKeyTests {
    /// A bare server on the loop: answers the upgrade, then keeps every byte that follows.
    final class RawServer: TCPConnectionDelegate, WebSocketClientDelegate, LoopDriver {
        let loop: EventLoop
        let listener: TCPListener
        var side: TCPConnection?
        var head: [UInt8] = []
        var frames: [UInt8] = []
        var answered = false
        var opened = false

        init() throws {
            loop = try EventLoop()
            listener = try TCPListener(loop: loop, host: "127.0.0.1", port: 0)
            listener.onConnection = { [unowned self] tcp in
                side = tcp
                tcp.delegate = self
                tcp.startReading()
            }
        }

        func connection(_ connection: TCPConnection, didRead bytes: UnsafeRawBufferPointer) {
            if answered {
                frames += bytes
                return
            }
            head += bytes
            let blank = Array("\r\n\r\n".utf8)
            guard head.count >= 4, let end = (0...head.count - 4).first(where: { Array(head[$0..<$0 + 4]) == blank })
            else { return }
            frames += head[(end + 4)...]
            answered = true
            let key = String(decoding: head[..<end], as: UTF8.self).split(separator: "\r\n")
                .first { $0.lowercased().hasPrefix("sec-websocket-key:") }
                .map { String($0.dropFirst("sec-websocket-key:".count).drop { $0 == " " }) } ?? ""
            let accept = WebSocketHandshake.acceptValue(forKey: key)
            connection.write(Array(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Accept: \(accept)\r\n\r\n").utf8))
        }

        func connectionDidClose(_ connection: TCPConnection, error: LoopError?) {}

        func webSocketClient(_ client: WebSocketClient, didReport event: WebSocketClient.Event) {
            if case .opened = event { opened = true }
        }
    }

    @Test func everyFrameGetsAKeyOfItsOwnAcrossRefills() throws {
        let server = try RawServer()
        let client = WebSocketClient(delegate: server)
        client.connect(loop: server.loop, host: "127.0.0.1", port: server.listener.port, path: "/")
        #expect(server.run { server.opened })
        let count = 200
        for i in 0..<count { client.send(.text, Self.message(i)) }
        let frameBytes = 2 + 4 + 11  // short header, key, "message NNN"
        #expect(server.run { server.frames.count >= count * frameBytes })
        var keys = Set<[UInt8]>()
        for i in 0..<count {
            let frame = Array(server.frames[i * frameBytes..<(i + 1) * frameBytes])
            #expect(frame[0] == 0x81 && frame[1] == 0x80 | 11)  // FIN text, masked, 11 bytes
            let key = Array(frame[2..<6])
            keys.insert(key)
            let payload = frame[6...].enumerated().map { $0.element ^ key[$0.offset % 4] }
            #expect(payload == Self.message(i))
        }
        #expect(keys.count >= count - 1)  // 32 random bits each: two equal keys in 200 is a 1-in-200,000 event
        client.drop()
    }

    /// "message 007": 11 bytes whatever `i` is below 1,000.
    static func message(_ i: Int) -> [UInt8] {
        let digits = String(i)
        return Array(("message " + String(repeating: "0", count: 3 - digits.count) + digits).utf8)
    }
}
