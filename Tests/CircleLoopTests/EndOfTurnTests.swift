import CircleLoop
import CircleTestSupport
import Testing

/// `atEndOfTurn`: work gathered over one turn's callbacks runs once, after all of them, and again only when armed
/// again in a later turn.
@Suite struct EndOfTurnTests {
    final class Driver: LoopDriver {
        let loop: EventLoop
        init() throws { loop = try EventLoop() }
    }

    @Test func actionsRunOnceAfterEveryCallbackOfTheirTurn() throws {
        let driver = try Driver()
        var log: [String] = []
        var armed = false
        func note(_ what: String) {
            log.append(what)
            guard !armed else { return }
            armed = true
            driver.loop.atEndOfTurn {
                armed = false
                log.append("end")
                // Work that an end-of-turn action adds runs in the same end of turn.
                driver.loop.atEndOfTurn { log.append("end, again") }
            }
        }
        let timers = (0..<3).map { _ in LoopTimer(loop: driver.loop) }
        for (i, timer) in timers.enumerated() { timer.start(afterMilliseconds: 0) { note("timer \(i)") } }
        #expect(driver.run { log.count >= 5 })
        #expect(log == ["timer 0", "timer 1", "timer 2", "end", "end, again"])
        // A later turn arms it again.
        timers[0].start(afterMilliseconds: 5) { note("later") }
        #expect(driver.run { log.count >= 8 })
        #expect(log.suffix(3) == ["later", "end", "end, again"])
        for timer in timers { timer.close() }
        driver.run(milliseconds: 10)
    }
}
