import CircleServer
import Synchronization

/// Collects log lines in memory so tests can read what the server logged.
final class CapturedLog: LogSink {
    private let lines = Mutex<[String]>([])

    func write(line: [UInt8]) {
        let s = String(decoding: line, as: UTF8.self)
        lines.withLock { $0.append(s) }
    }

    var all: [String] { lines.withLock { $0 } }
    var text: String { all.joined() }
}
