import Foundation

/// The `write` and `writev` system calls the calling thread has made, as the kernel counts them (`syscw` in
/// /proc/thread-self/io): how a test sees how many writes a loop turn took, from outside the loop.
public enum WriteSyscalls {
    public static func count() throws -> Int {
        let text = try String(contentsOfFile: "/proc/thread-self/io", encoding: .utf8)
        for line in text.split(separator: "\n") where line.hasPrefix("syscw:") {
            if let value = Int(line.dropFirst("syscw:".count).trimmingCharacters(in: .whitespaces)) { return value }
        }
        throw CocoaError(.fileReadCorruptFile)
    }
}
