/// The part common to request and response heads: a start line, then header lines up to an empty line.
///
/// Leading empty lines before the start line are skipped (RFC 9112 §2.2 asks servers to ignore at least one);
/// they still count toward `maxHeadBytes`.
struct HTTPHeadReader {
    /// Progress reported to the parser that owns this reader.
    enum Event {
        /// The start line arrived (CRLF removed); the owner validates it, then calls `advance` again.
        case startLine([UInt8])
        /// The empty line ending the head arrived; the fields are handed over and the reader is spent.
        case complete([HTTPHeader])
        case needMore
        case failure(HTTPError)
    }

    private var lines: HTTPLineReader
    private let maxHeaderCount: Int
    private let startLineTooLong: HTTPError
    private var sawStartLine = false
    private var headers: [HTTPHeader] = []

    /// `startLineTooLong` is the error for a start line over `maxLineBytes` (414 for requests).
    init(limits: HTTPLimits, startLineTooLong: HTTPError) {
        lines = HTTPLineReader(limits: limits)
        maxHeaderCount = limits.maxHeaderCount
        self.startLineTooLong = startLineTooLong
    }

    /// Consumes lines from `input` at `index` until something happens worth reporting.
    mutating func advance(_ input: UnsafeRawBufferPointer, _ index: inout Int) -> Event {
        while true {
            let step = lines.next(input, &index)
            switch step {
            case .needMore:
                return .needMore
            case .lineTooLong:
                let tooLong = sawStartLine ? HTTPError(status: 431, reason: "Header line too long") : startLineTooLong
                return .failure(tooLong)
            case .headTooLarge:
                return .failure(HTTPError(status: 431, reason: "Head too large"))
            case .bareLineFeed:
                return .failure(HTTPError(status: 400, reason: "Line not terminated by CRLF"))
            case .line(let range):
                if let event = take(UnsafeRawBufferPointer(rebasing: input[range])) { return event }
            case .bufferedLine:
                let line = lines.takeBufferedLine()
                if let event = line.withUnsafeBytes({ take($0) }) { return event }
            }
        }
    }

    private mutating func take(_ line: UnsafeRawBufferPointer) -> Event? {
        if !sawStartLine {
            if line.isEmpty { return nil }
            sawStartLine = true
            return .startLine(Array(line))
        }
        if line.isEmpty {
            defer { headers = [] }
            return .complete(headers)
        }
        guard headers.count < maxHeaderCount else {
            return .failure(HTTPError(status: 431, reason: "Too many header fields"))
        }
        switch HTTPSyntax.parseHeaderLine(line) {
        case .success(let header):
            if headers.isEmpty { headers.reserveCapacity(min(maxHeaderCount, 12)) }  // one allocation, not four
            headers.append(header)
            return nil
        case .failure(let error):
            return .failure(error)
        }
    }
}
