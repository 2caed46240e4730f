import CircleWebSocket
import Testing

/// Fragments are reported, one per data frame that does not end its message, so that senders can count frames
/// against their rate limits; control frames and whole messages are not.
@Suite struct WebSocketFragmentTests {
    @Test func everyNonFinalDataFrameIsReported() {
        var stream: [UInt8] = clientFrame(0x1, utf8("a"), fin: false)
        for _ in 0..<9 { stream += clientFrame(0x0, utf8("b"), fin: false) }
        stream += clientFrame(0x0, utf8("c"))
        #expect(fragmentCount(stream) == 10)
        #expect(run(.server, stream) == [.text(utf8("a" + String(repeating: "b", count: 9) + "c"))])
    }

    @Test func wholeMessagesAndControlFramesAreNotFragments() {
        let stream = clientFrame(0x1, utf8("one")) + clientFrame(0x9, utf8("p")) + clientFrame(0x2, [1, 2])
        #expect(fragmentCount(stream) == 0)
    }

    @Test func aMessageInManyTinyFramesReassemblesExactly() {
        // 64 KiB in 16-byte frames: reassembly grows its buffer geometrically, and the bytes come out in order.
        let payload = (0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var stream: [UInt8] = []
        for start in stride(from: 0, to: payload.count, by: 16) {
            let chunk = Array(payload[start..<(start + 16)])
            let first = start == 0, last = start + 16 == payload.count
            stream += clientFrame(first ? 0x2 : 0x0, chunk, fin: last)
        }
        #expect(run(.server, stream) == [.binary(payload)])
        #expect(fragmentCount(stream) == payload.count / 16 - 1)
    }
}
