import CircleLoop
import CircleTestSupport
import Testing

/// `TCPConnection` with a transport filter, on a real socket pair, through a toy filter: XOR 0x5A both ways; a
/// decoded 0xFF fails (output "ALERT"), a decoded 0xFE ends the stream (like close_notify); the farewell is "BYE".
@Suite struct TransportFilterTests {
    final class XORFilter: TransportFilter {
        var refuse = false
        var outboundCalls = 0

        func inbound(_ bytes: UnsafeRawBufferPointer, plaintext: inout [UInt8],
                     output: inout [UInt8]) -> TransportFilterResult {
            for byte in bytes {
                switch byte ^ 0x5A {
                case 0xFF: output += Array("ALERT".utf8); return .failed
                case 0xFE: return .closed
                case let b: plaintext.append(b)
                }
            }
            return .ok
        }

        func outbound(_ plaintext: UnsafeRawBufferPointer, output: inout [UInt8]) -> Bool {
            outboundCalls += 1
            if refuse { return false }
            output += plaintext.map { $0 ^ 0x5A }
            return true
        }

        func close(output: inout [UInt8]) { output += Array("BYE".utf8) }
    }

    final class Recorder: TCPConnectionDelegate {
        var received: [UInt8] = []
        var closed = false
        func connection(_ connection: TCPConnection, didRead bytes: UnsafeRawBufferPointer) {
            received += bytes
        }
        func connectionDidClose(_ connection: TCPConnection, error: LoopError?) { closed = true }
    }

    /// A filtered server-side connection and a raw client connected to it.
    final class Pair: LoopDriver {
        let loop: EventLoop
        let port: Int
        private let listener: TCPListener
        let filter = XORFilter()
        let serverSide = Recorder()
        let clientSide = Recorder()
        var server: TCPConnection?
        var client: TCPConnection?

        init() throws {
            loop = try EventLoop()
            listener = try TCPListener(loop: loop, host: "127.0.0.1", port: 0)
            port = listener.port
            listener.onConnection = { [unowned self] tcp in
                tcp.filter = filter
                tcp.delegate = serverSide
                tcp.startReading()
                server = tcp
            }
            TCPConnection.connect(loop: loop, host: "127.0.0.1", port: port) { [unowned self] result in
                guard case .success(let tcp) = result else { return }
                tcp.delegate = clientSide
                tcp.startReading()
                client = tcp
            }
            run { server != nil && client != nil }
        }

        func clientSends(_ bytes: [UInt8]) { client?.write(bytes.map { $0 ^ 0x5A }) }

        func close() {
            listener.close()
            client?.close()
            server?.close()
            run { serverSide.closed && clientSide.closed }
            #expect(loop.close() == 0)
        }
    }

    @Test func readsAreDecodedAndATurnOfWritesIsEncodedOnceAndWrittenOnce() throws {
        let pair = try Pair()
        pair.clientSends(Array("hello".utf8))
        #expect(pair.run { pair.serverSide.received.count == 5 })
        #expect(pair.serverSide.received == Array("hello".utf8))
        let server = try #require(pair.server)
        pair.loop.flushDirty()
        let writes = try WriteSyscalls.count()
        for part in ["a", "b", "c"] { server.write(Array(part.utf8)) }
        pair.loop.flushDirty()
        #expect(pair.filter.outboundCalls == 1)
        #expect(try WriteSyscalls.count() == writes + 1)
        #expect(pair.run { pair.clientSide.received.count == 3 })
        #expect(pair.clientSide.received == Array("abc".utf8).map { $0 ^ 0x5A })
        pair.close()
    }

    @Test func aFailedFilterSendsItsOutputThenFINAndDeliversNothingMore() throws {
        let pair = try Pair()
        pair.clientSends([0x41, 0xFF, 0x42])
        #expect(pair.run { pair.clientSide.closed })
        #expect(pair.clientSide.received == Array("ALERT".utf8))
        #expect(pair.serverSide.received == [0x41])
        #expect(pair.run { pair.serverSide.closed })
        pair.close()
    }

    @Test func theFiltersEndOfStreamFinishesTheConnectionWithTheFarewell() throws {
        let pair = try Pair()
        pair.clientSends([0x41, 0xFE])
        #expect(pair.run { pair.clientSide.closed })
        #expect(pair.serverSide.received == [0x41])
        #expect(pair.clientSide.received == Array("BYE".utf8))
        pair.close()
    }

    @Test func finishSendsTheQueuedBytesThenTheFarewellThenFIN() throws {
        let pair = try Pair()
        let server = try #require(pair.server)
        server.write(Array("last".utf8))
        server.finish()
        pair.loop.flushDirty()
        #expect(!server.write(Array("late".utf8)), "a write after the farewell was accepted")
        #expect(pair.run { pair.clientSide.closed })
        #expect(pair.clientSide.received == Array("last".utf8).map { $0 ^ 0x5A } + Array("BYE".utf8))
        pair.close()
    }

    @Test func aFilterRefusingToSendEndsTheConnectionWithoutAFarewell() throws {
        let pair = try Pair()
        pair.filter.refuse = true
        pair.server?.write(Array("dropped".utf8))
        #expect(pair.run { pair.clientSide.closed })
        #expect(pair.clientSide.received.isEmpty, "a refusing filter was asked for its farewell")
        #expect(!pair.server!.write([1]))
        pair.close()
    }

    @Test func queuedBytesCountTowardTheBound() throws {
        let pair = try Pair()
        let server = try #require(pair.server)
        server.maxQueuedBytes = 8
        #expect(server.write(Array("12345678".utf8)))
        #expect(!server.write(Array("9".utf8)))
        pair.close()
    }
}
