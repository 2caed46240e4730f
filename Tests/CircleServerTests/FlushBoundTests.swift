@testable import CircleLoop
import Testing

/// The loop flushes queued writes inside a busy turn (once the oldest has waited `flushAfterNanoseconds`, or every
/// `flushAfterReads` reads), not only at its end: one turn that reads many sockets must not hold every write back
/// until its last read, and whatever it flushes early or late must still reach each peer complete and in order.
@Suite struct FlushBoundTests {
    final class Recorder: TCPConnectionDelegate {
        var received: [UInt8] = []
        var closed = false
        func connection(_ connection: TCPConnection, didRead bytes: UnsafeRawBufferPointer) { received += bytes }
        func connectionDidClose(_ connection: TCPConnection, error: LoopError?) { closed = true }
    }

    /// Server side of a sender: forwards every read to the sink's server side, noting how many reads the loop had
    /// handled since its last flush.
    final class Forwarder: TCPConnectionDelegate {
        unowned let hub: Hub
        init(hub: Hub) { self.hub = hub }
        func connection(_ connection: TCPConnection, didRead bytes: UnsafeRawBufferPointer) {
            hub.readsSinceFlushSeen.append(connection.loop.readsSinceFlush)
            hub.forwarded += bytes
            hub.sinkServerSide?.write(bytes)
        }
        func connectionDidClose(_ connection: TCPConnection, error: LoopError?) {}
    }

    /// `senders` clients whose server sides forward to one sink client, all on one loop.
    final class Hub: LoopDriver {
        let loop: EventLoop
        let port: Int
        private let listener: TCPListener
        var senders: [TCPConnection] = []
        var sink: TCPConnection?
        var sinkServerSide: TCPConnection?
        let sinkRecorder = Recorder()
        var serverSides: [TCPConnection] = []
        var forwarders: [Forwarder] = []
        var forwarded: [UInt8] = []
        var readsSinceFlushSeen: [Int] = []

        init(senders count: Int, flushAfterReads: Int = 0, flushAfterNanoseconds: UInt64 = 0) throws {
            loop = try EventLoop()
            loop.flushAfterReads = flushAfterReads
            loop.flushAfterNanoseconds = flushAfterNanoseconds
            listener = try TCPListener(loop: loop, host: "127.0.0.1", port: 0)
            port = listener.port
            listener.onConnection = { [unowned self] tcp in
                // The first connection accepted is the sink's (it connects, and is accepted, before any sender).
                if sinkServerSide == nil {
                    sinkServerSide = tcp
                    tcp.delegate = Recorder()
                } else {
                    let forwarder = Forwarder(hub: self)
                    forwarders.append(forwarder)
                    tcp.delegate = forwarder
                }
                serverSides.append(tcp)
                tcp.startReading()
            }
            TCPConnection.connect(loop: loop, host: "127.0.0.1", port: port) { [unowned self] result in
                guard case .success(let tcp) = result else { return }
                tcp.delegate = sinkRecorder
                tcp.startReading()
                sink = tcp
            }
            run { sink != nil && sinkServerSide != nil }
            for _ in 0..<count {
                TCPConnection.connect(loop: loop, host: "127.0.0.1", port: port) { [unowned self] result in
                    guard case .success(let tcp) = result else { return }
                    tcp.delegate = Recorder()
                    senders.append(tcp)
                }
            }
            run { senders.count == count && serverSides.count == count + 1 }
        }

        /// Every sender writes `<m{i}>` in the same turn (the server sides all become readable for one poll);
        /// returns the bytes the sink should receive in all.
        func sendOneMessageFromEachSender() -> Int {
            for (i, sender) in senders.enumerated() { sender.write(Array("<m\(i)>".utf8)) }
            return senders.indices.reduce(0) { $0 + "<m\($1)>".utf8.count }
        }

        func close() {
            listener.close()
            for c in senders + serverSides { c.close() }
            sink?.close()
            run { sinkRecorder.closed }
            run(milliseconds: 20)
            #expect(loop.close() == 0)
        }
    }

    @Test func aTurnReadingManySocketsFlushesEveryNReadsAndEveryByteArrivesInOrder() throws {
        let n = 4, count = 40
        let hub = try Hub(senders: count, flushAfterReads: n)
        let sinkServerSide = try #require(hub.sinkServerSide)
        let writesBefore = sinkServerSide.writeCalls
        let total = hub.sendOneMessageFromEachSender()
        #expect(hub.run { hub.sinkRecorder.received.count == total })
        #expect(hub.readsSinceFlushSeen.count == count)
        #expect(hub.readsSinceFlushSeen.allSatisfy { $0 < n }, "more than \(n) reads without a flush")
        // In the order the server read them, each message whole.
        #expect(hub.sinkRecorder.received == hub.forwarded)
        let messages = String(decoding: hub.sinkRecorder.received, as: UTF8.self)
        #expect(Set(messages.split(separator: ">").map { String($0) + ">" }) == Set((0..<count).map { "<m\($0)>" }))
        // At least one write per `n` reads reached the sink: none waited for the whole turn.
        #expect(sinkServerSide.writeCalls - writesBefore >= (count + n - 1) / n)
        hub.close()
    }

    @Test func aBoundInTimeFlushesAsSoonAsTheOldestWriteHasWaitedLongEnough() throws {
        let count = 20
        // 1 ns: any queued write has waited long enough by the end of the next read.
        let hub = try Hub(senders: count, flushAfterNanoseconds: 1)
        let total = hub.sendOneMessageFromEachSender()
        #expect(hub.run { hub.sinkRecorder.received.count == total })
        #expect(hub.readsSinceFlushSeen.count == count && hub.readsSinceFlushSeen.allSatisfy { $0 == 0 })
        #expect(hub.sinkRecorder.received == hub.forwarded)
        hub.close()
    }

    @Test func theDefaultBoundKeepsEveryByteInOrder() throws {
        let loop = try EventLoop()
        #expect(loop.flushAfterNanoseconds == 500_000 && loop.flushAfterReads == 0)
        #expect(loop.close() == 0)
        let count = 30
        let hub = try Hub(senders: count, flushAfterNanoseconds: 500_000)
        let total = hub.sendOneMessageFromEachSender()
        #expect(hub.run { hub.sinkRecorder.received.count == total })
        #expect(hub.sinkRecorder.received == hub.forwarded)
        hub.close()
    }

    @Test func withoutABoundATurnsWritesToOnePeerStillGoOutTogetherAndInOrder() throws {
        let count = 20
        let hub = try Hub(senders: count)
        let total = hub.sendOneMessageFromEachSender()
        #expect(hub.run { hub.sinkRecorder.received.count == total })
        #expect(hub.sinkRecorder.received == hub.forwarded)
        hub.close()
    }

    @Test func theNthReadFlushesWhatIsQueuedAndNotBefore() throws {
        let hub = try Hub(senders: 0, flushAfterReads: 3)
        let server = try #require(hub.sinkServerSide)
        hub.loop.flushDirty()
        let writes = server.writeCalls
        server.write(Array("queued".utf8))
        hub.loop.didHandleRead()
        hub.loop.didHandleRead()
        #expect(server.queuedBytes == 6 && server.writeCalls == writes, "flushed before the third read")
        hub.loop.didHandleRead()
        #expect(server.queuedBytes == 0 && server.writeCalls == writes + 1)
        #expect(hub.loop.readsSinceFlush == 0)
        #expect(hub.run { hub.sinkRecorder.received == Array("queued".utf8) })
        hub.close()
    }

    @Test func writeBuffersAreReusedAndBigOnesStillWork() throws {
        let hub = try Hub(senders: 0)
        let server = try #require(hub.sinkServerSide)
        var expected: [UInt8] = []
        // Small turns (a pooled buffer each), then a turn larger than a pooled buffer, then small ones again.
        for size in [10, 100, 2000, 2048, 2049, 70_000, 5, 1] {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ size) }
            server.write(bytes)
            expected += bytes
            hub.loop.flushDirty()
        }
        #expect(hub.run { hub.sinkRecorder.received.count == expected.count })
        #expect(hub.sinkRecorder.received == expected)
        hub.close()
    }
}
