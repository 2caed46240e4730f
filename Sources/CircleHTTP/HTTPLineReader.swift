import CircleBytes

/// Splits an incoming byte stream into CRLF-terminated lines while enforcing the line and head caps.
///
/// A line that arrives whole inside one input is handed out as a range of that input (no copy); only a line
/// that spans inputs is buffered, and the buffer never grows past the caps, because every byte is checked
/// against them before it is stored. The caps are positional, so any split of the same stream gives the same
/// outcome.
struct HTTPLineReader {
    /// What the next line is, or why there is none.
    enum Step {
        /// A whole line inside the input; the range excludes the CRLF.
        case line(Range<Int>)
        /// A line that spanned inputs; fetch it with `takeBufferedLine()` (CRLF removed).
        case bufferedLine
        /// The input is used up inside a line.
        case needMore
        /// The line would exceed `maxLineBytes`.
        case lineTooLong
        /// The head would exceed `maxHeadBytes`.
        case headTooLarge
        /// A line ended with LF not preceded by CR.
        case bareLineFeed
    }

    let maxLineBytes: Int
    let maxHeadBytes: Int
    private(set) var headBytes = 0
    private var partial: [UInt8] = []

    init(limits: HTTPLimits) {
        maxLineBytes = limits.maxLineBytes
        maxHeadBytes = limits.maxHeadBytes
    }

    /// Finds the next line at `index` in `input`, advancing `index` past what it consumed.
    mutating func next(_ input: UnsafeRawBufferPointer, _ index: inout Int) -> Step {
        let lineAllowance = maxLineBytes + 2 - partial.count  // content + CRLF
        let headAllowance = maxHeadBytes - headBytes
        let allowance = max(0, min(lineAllowance, headAllowance))
        let available = input.count - index
        let window = index..<(index + min(available, allowance))
        guard let lf = WordScan.firstIndex(
            of: HTTPSyntax.lf, in: input, from: window.lowerBound, to: window.upperBound)
        else {
            if available > allowance {
                return lineAllowance <= headAllowance ? .lineTooLong : .headTooLarge
            }
            partial.append(contentsOf: input[index...])
            headBytes += available
            index = input.count
            return .needMore
        }
        let start = index
        index = lf + 1
        headBytes += index - start
        if partial.isEmpty {
            guard lf > start, input[lf - 1] == HTTPSyntax.cr else { return .bareLineFeed }
            return .line(start..<(lf - 1))
        }
        partial.append(contentsOf: input[start..<index])
        guard partial.count >= 2, partial[partial.count - 2] == HTTPSyntax.cr else { return .bareLineFeed }
        partial.removeLast(2)
        return .bufferedLine
    }

    /// Moves the buffered line out, leaving the reader with no buffer.
    mutating func takeBufferedLine() -> [UInt8] {
        defer { partial = [] }
        return partial
    }
}
