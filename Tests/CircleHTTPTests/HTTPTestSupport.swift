import CircleHTTP

/// The bytes of a string's UTF-8.
func utf8(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Every way to cut `bytes` into pieces for split-invariance tests: one byte at a time, and every two-way split.
func splits(of bytes: [UInt8]) -> [[[UInt8]]] {
    var all: [[[UInt8]]] = [bytes.map { [$0] }]
    for cut in 0...bytes.count { all.append([Array(bytes[..<cut]), Array(bytes[cut...])]) }
    return all
}

/// A parse outcome with `consumed` made absolute (counted from the first byte fed), comparable across splits.
enum HeadOutcome: Equatable {
    case needMore
    case complete(HTTPRequestHead, consumed: Int)
    case failure(HTTPError)
}

/// Feeds `chunks` in order, stopping at the first result that is not `.needMore`.
func parseRequest(_ chunks: [[UInt8]], limits: HTTPLimits = .init()) -> HeadOutcome {
    var parser = HTTPHeadParser(limits: limits)
    var fedBefore = 0
    for chunk in chunks {
        switch parser.feed(chunk) {
        case .needMore: fedBefore += chunk.count
        case .complete(let head, let consumed): return .complete(head, consumed: fedBefore + consumed)
        case .failure(let error): return .failure(error)
        }
    }
    return .needMore
}

/// Parses `bytes` in one piece.
func parseRequest(_ bytes: [UInt8], limits: HTTPLimits = .init()) -> HeadOutcome {
    parseRequest([bytes], limits: limits)
}

/// Parses a request given as text.
func parseRequest(_ text: String, limits: HTTPLimits = .init()) -> HeadOutcome {
    parseRequest(utf8(text), limits: limits)
}

/// The HTTP status of a failed parse, or nil.
func status(_ outcome: HeadOutcome) -> Int? {
    if case .failure(let e) = outcome { return e.status }
    return nil
}

/// The head of a completed parse, or nil.
func head(_ outcome: HeadOutcome) -> HTTPRequestHead? {
    if case .complete(let h, _) = outcome { return h }
    return nil
}
