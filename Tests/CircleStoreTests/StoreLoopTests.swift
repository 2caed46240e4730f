import CircleLoop
import CircleStore
import CircleTestSupport
import Foundation
import Testing

/// The store on a real libuv loop: the writer wakes the loop through an async handle, and the completions run in
/// the loop's callback, on its thread.
@Suite struct StoreLoopTests {
    @Test func theWriterWakesTheLoopAndCompletionsRunOnIt() throws {
        let temp = TempDirectory()
        let loop = try EventLoop()
        var store: SQLiteStore?
        let wakeup = AsyncWakeup(loop: loop) { store?.drainCompletions() }
        let signaller = wakeup.signaller
        store = try SQLiteStore(directory: temp.data) { signaller.signal() }
        let s = try #require(store)
        let loopThread = pthread_self()
        var number: Int?
        var onLoopThread = false
        for seq in 1...100 { s.appendEvent(group: "g", seq: UInt64(seq), bytes: [1]) }
        s.openSession(group: "g", openedAt: 1) { result in
            number = try? result.get()
            onLoopThread = pthread_equal(pthread_self(), loopThread) != 0
            s.close()
            wakeup.close()
        }
        let timeout = LoopTimer(loop: loop)
        timeout.start(afterMilliseconds: TestTime.milliseconds(10_000)) { loop.stop() }
        timeout.unref()
        loop.run()
        timeout.close()
        _ = loop.runOnce(wait: false)
        #expect(number == 1)
        #expect(onLoopThread)
        #expect(s.stats.writesCommitted == 101)
        #expect(wakeup.isClosed)
        // A signal after the close is refused, not a use of freed memory.
        signaller.signal()
    }
}
