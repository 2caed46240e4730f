@testable import CircleLoop
import Foundation
import CircleTestSupport
import Testing

/// When queued writes leave: a turn's writes to one connection go out together in one write call, and a busy turn
/// flushes once the oldest has waited `flushAfterNanoseconds`, not only at its end; early or late, every byte
/// reaches its peer complete and in order.
@Suite struct WriteFlushTests {
    final class Recorder: TCPConnectionDelegate {
        var received: [UInt8] = []
        var closed = false
        func connection(_ connection: TCPConnection, didRead bytes: UnsafeRawBufferPointer) { received += bytes }
        func connectionDidClose(_ connection: TCPConnection, error: LoopError?) { closed = true }
    }

    /// Server side of a sender: forwards every read to the sink's server side, noting how many bytes earlier reads
    /// left queued there (not yet flushed).
    final class Forwarder: TCPConnectionDelegate {
        unowned let hub: Hub
        init(hub: Hub) { self.hub = hub }
        func connection(_ connection: TCPConnection, didRead bytes: UnsafeRawBufferPointer) {
            hub.queuedAtEachRead.append(hub.sinkServerSide?.queuedBytes ?? -1)
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
        var queuedAtEachRead: [Int] = []

        init(senders count: Int, flushAfterNanoseconds: UInt64 = 0) throws {
            loop = try EventLoop()
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

    @Test func aTurnsWritesToOneConnectionLeaveInOneWriteCall() throws {
        let hub = try Hub(senders: 0)
        let server = try #require(hub.sinkServerSide)
        hub.loop.flushDirty()
        let before = try WriteSyscalls.count()
        for i in 0..<50 { server.write(Array("<m\(i)>".utf8)) }
        #expect(try WriteSyscalls.count() == before, "written before the flush")
        hub.loop.flushDirty()
        #expect(try WriteSyscalls.count() == before + 1, "fifty queued writes took more than one write call")
        #expect(server.queuedBytes == 0)
        let expected = (0..<50).flatMap { Array("<m\($0)>".utf8) }
        #expect(hub.run { hub.sinkRecorder.received.count == expected.count })
        #expect(hub.sinkRecorder.received == expected)
        hub.close()
    }

    @Test func aBoundInTimeFlushesAsSoonAsTheOldestWriteHasWaitedLongEnough() throws {
        let count = 20
        // 1 ns: any queued write has waited long enough by the end of the read that queued it.
        let hub = try Hub(senders: count, flushAfterNanoseconds: 1)
        let total = hub.sendOneMessageFromEachSender()
        #expect(hub.run { hub.sinkRecorder.received.count == total })
        #expect(hub.queuedAtEachRead.count == count)
        #expect(hub.queuedAtEachRead.allSatisfy { $0 == 0 }, "a read found an earlier read's write still queued")
        #expect(hub.sinkRecorder.received == hub.forwarded)
        hub.close()
    }

    @Test func theDefaultBoundKeepsEveryByteInOrder() throws {
        let loop = try EventLoop()
        #expect(loop.flushAfterNanoseconds == 500_000)
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
        // The reads of one turn queue behind each other: later reads find the earlier ones' bytes still queued.
        #expect(hub.queuedAtEachRead.contains { $0 > 0 }, "no read found another's write waiting: nothing coalesced")
        #expect(hub.sinkRecorder.received == hub.forwarded)
        let messages = String(decoding: hub.sinkRecorder.received, as: UTF8.self)
        #expect(Set(messages.split(separator: ">").map { String($0) + ">" }) == Set((0..<count).map { "<m\($0)>" }))
        hub.close()
    }

    @Test func aQueuedWriteLeavesAtTheFirstReadPastTheBoundAndNotBefore() throws {
        let bound: UInt64 = 200_000_000
        let hub = try Hub(senders: 0, flushAfterNanoseconds: bound)
        let server = try #require(hub.sinkServerSide)
        hub.loop.flushDirty()
        let before = try WriteSyscalls.count()
        let queuedAt = EventLoop.hrtime
        server.write(Array("queued".utf8))
        hub.loop.didHandleRead()
        if EventLoop.hrtime - queuedAt < bound {  // a machine stalled past the bound proves nothing here
            #expect(server.queuedBytes == 6, "flushed before the bound")
            #expect(try WriteSyscalls.count() == before, "written before the bound")
        }
        while EventLoop.hrtime - queuedAt < bound { usleep(10_000) }
        hub.loop.didHandleRead()
        #expect(server.queuedBytes == 0)
        #expect(try WriteSyscalls.count() == before + 1)
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
