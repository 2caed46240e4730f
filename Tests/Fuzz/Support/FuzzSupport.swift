// Shared by every harness: checks that stop the fuzzer with a readable reason, the splits an input is fed at, and a
// reader that turns fuzz bytes into structured values.

/// Stops the run (libFuzzer reports the input as a crash) when a property does not hold.
@inline(__always)
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
             file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("fuzz check failed: \(message())", file: file, line: line) }
}

/// FNV-1a: a seed derived from the input, so the random splits are the same every time an input is replayed.
func fnv1a(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return hash
}

/// The ways a stream is fed: whole, byte by byte, and a random split into chunks of 1 to 16 bytes (chunk ends,
/// increasing, the last = count).
func splits(count: Int, seed: UInt64) -> [[Int]] {
    var plans: [[Int]] = [[count], count == 0 ? [0] : Array(1...count)]
    var random = SplitMix64(seed: seed)
    for maxChunk in [16] {
        var ends: [Int] = []
        var at = 0
        while at < count {
            at = min(count, at + 1 + Int(random.next() % UInt64(maxChunk)))
            ends.append(at)
        }
        if ends.isEmpty { ends = [0] }
        plans.append(ends)
    }
    return plans
}

/// Reads structured values from fuzz bytes, front to back; past the end every read gives zeros.
struct FuzzReader {
    let bytes: [UInt8]
    var at = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { at >= bytes.count }

    mutating func byte() -> UInt8 {
        guard at < bytes.count else { return 0 }
        defer { at += 1 }
        return bytes[at]
    }

    mutating func bool() -> Bool { byte() & 1 == 1 }

    mutating func uint64() -> UInt64 {
        var value: UInt64 = 0
        for _ in 0..<8 { value = value << 8 | UInt64(byte()) }
        return value
    }

    /// A number in `0..<bound` (bound > 0).
    mutating func below(_ bound: Int) -> Int { Int(byte()) % bound }

    /// Up to `max` raw bytes: a length byte, then that many bytes.
    mutating func bytes(max: Int) -> [UInt8] {
        let count = min(max, Int(byte()), bytes.count - at)
        guard count > 0 else { return [] }
        defer { at += count }
        return Array(bytes[at..<(at + count)])
    }

    /// A string from up to `max` bytes, invalid UTF-8 repaired (as `String(decoding:)` does).
    mutating func string(max: Int) -> String { String(decoding: bytes(max: max), as: UTF8.self) }

    /// One of `choices`.
    mutating func pick<T>(_ choices: [T]) -> T { choices[below(choices.count)] }
}
