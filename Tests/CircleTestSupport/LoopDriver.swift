import CircleLoop

/// A loop that a test's connections run on.
public protocol LoopDriver: AnyObject {
    var loop: EventLoop { get }
}

extension LoopDriver {
    /// Runs the loop until `condition` holds or `timeoutMilliseconds` (times `TestTime.scale`) pass. Returns whether
    /// it held.
    @discardableResult
    public func run(timeoutMilliseconds: UInt64 = 5000, until condition: () -> Bool) -> Bool {
        runLoop(milliseconds: TestTime.milliseconds(timeoutMilliseconds), until: condition)
    }

    /// Runs the loop for a while regardless (to show that something does NOT happen). Not scaled: some tests
    /// measure what happens in this window.
    public func run(milliseconds: UInt64) {
        _ = runLoop(milliseconds: milliseconds) { false }
    }

    private func runLoop(milliseconds: UInt64, until condition: () -> Bool) -> Bool {
        let deadline = EventLoop.hrtime + milliseconds * 1_000_000
        let tick = LoopTimer(loop: loop)
        tick.start(afterMilliseconds: 5, repeatMilliseconds: 5) {}
        defer { tick.close() }
        while !condition() {
            if EventLoop.hrtime >= deadline { return false }
            loop.runOnce(wait: true)
        }
        return true
    }
}
