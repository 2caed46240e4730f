@testable import CircleWebSocket
import Testing

/// Long masked frames decode in any split, fragments keep their own mask positions, and the size limits hold at
/// their edges.
@Suite struct WebSocketLongFrameTests {
    func payload(_ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) } }

    @Test(arguments: [1, 2, 3, 5, 7, 13, 4093, 65_536])
    func longMaskedFramesDecodeInAnySplit(_ piece: Int) {
        for n in [126, 65_535, 65_536, 70_001] {
            let data = payload(n)
            let stream = clientFrame(0x2, data) + clientFrame(0x1, Array("ok".utf8))
            let limits = WebSocketLimits(maxFrameSize: 1 << 20, maxMessageSize: 1 << 20)
            var codec = WebSocketCodec(role: .server, limits: limits)
            let chunks = stride(from: 0, to: stream.count, by: piece).map {
                Array(stream[$0..<min($0 + piece, stream.count)])
            }
            #expect(run(&codec, chunks) == [.binary(data), .text(Array("ok".utf8))])
        }
    }

    @Test func fragmentsAtOddOffsetsKeepTheirOwnMaskPositions() {
        let a = payload(5), b = payload(3), c = payload(130)
        let stream = clientFrame(0x1, a.map { $0 & 0x7F }, fin: false) + clientFrame(0x9, [1, 2, 3])
            + clientFrame(0x0, b.map { $0 & 0x7F }, fin: false) + clientFrame(0x0, c.map { $0 & 0x7F })
        for piece in 1...9 {
            var codec = WebSocketCodec(role: .server)
            let chunks = stride(from: 0, to: stream.count, by: piece).map {
                Array(stream[$0..<min($0 + piece, stream.count)])
            }
            let actions = run(&codec, chunks)
            #expect(actions.contains(.text((a + b + c).map { $0 & 0x7F })))
            #expect(actions.contains(.ping([1, 2, 3])))
        }
    }

    @Test func limitsHoldAtTheirEdges() {
        let limits = WebSocketLimits(maxFrameSize: 65_536, maxMessageSize: 65_536)
        #expect(run(.server, clientFrame(0x2, payload(65_536)), limits: limits) == [.binary(payload(65_536))])
        let header = Array(clientFrame(0x2, payload(65_537)).prefix(14))
        #expect(isFailure(run(.server, header, limits: limits), code: 1009))
        // A 64-bit length just under 2^63 is refused by size, not misread.
        let huge: [UInt8] = [0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        #expect(isFailure(run(.server, huge, limits: limits), code: 1009))
        // Fragments summing past the message limit, each within the frame limit.
        let two = clientFrame(0x2, payload(40_000), fin: false) + Array(clientFrame(0x0, payload(25_537)).prefix(8))
        #expect(isFailure(run(.server, two, limits: limits), code: 1009))
        let exact = clientFrame(0x2, payload(40_000), fin: false) + clientFrame(0x0, payload(25_536))
        #expect(run(.server, exact, limits: limits) == [.binary(payload(40_000) + payload(25_536))])
    }
}
