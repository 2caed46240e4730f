import Foundation

/// How many times longer than usual tests wait for something to happen: `CIRCLE_TEST_TIME_SCALE`, which Scripts/test
/// sets under the sanitizers (they slow Swift code several times). A deadline ends a stuck test; none measures speed.
public enum TestTime {
    public static let scale: UInt64 = {
        guard let text = ProcessInfo.processInfo.environment["CIRCLE_TEST_TIME_SCALE"] else { return 1 }
        guard let factor = UInt64(text), factor >= 1 else {
            fatalError("CIRCLE_TEST_TIME_SCALE must be a whole number of at least 1, not '\(text)'")
        }
        return factor
    }()

    /// A deadline of `milliseconds`, stretched by ``scale``.
    public static func milliseconds(_ milliseconds: UInt64) -> UInt64 { milliseconds * scale }

    /// A deadline of `seconds`, stretched by ``scale``.
    public static func seconds(_ seconds: Double) -> Double { seconds * Double(scale) }
}
