/// The bytes of a string's UTF-8.
func utf8(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Every way to cut `bytes` into pieces for split-invariance tests: one byte at a time, and every two-way split.
func splits(of bytes: [UInt8]) -> [[[UInt8]]] {
    var all: [[[UInt8]]] = [bytes.map { [$0] }]
    for cut in 0...bytes.count { all.append([Array(bytes[..<cut]), Array(bytes[cut...])]) }
    return all
}
