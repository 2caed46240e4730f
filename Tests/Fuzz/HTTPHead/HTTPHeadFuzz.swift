// The HTTP request-head parser (and the response-head parser, which shares its line reader), fed whole, byte by
// byte and at random splits: every split must give the same heads at the same offsets, or the same error. Each
// complete head also goes through the WebSocket handshake, both query readers, and the response encoder, whose
// output must parse back to what was encoded.
@testable import CircleHTTP
import CircleWebSocket

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPHead(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: count)
    let plans = splits(count: count, seed: fnv1a(input))
    for limits in [HTTPLimits(), HTTPLimits(maxHeadBytes: 256, maxHeaderCount: 4, maxLineBytes: 64)] {
        let whole = requestEvents(input, plans[0], limits)
        for plan in plans.dropFirst() {
            let split = requestEvents(input, plan, limits)
            require(split == whole, "request heads differ when split: \(whole) vs \(split)")
        }
        // The response parser shares the line reader; whole against the random split is enough for it.
        require(responseEvents(input, plans[2], limits) == responseEvents(input, plans[0], limits),
                "response heads differ when split")
        for case .head(let head, _) in whole { check(head) }
    }
    return 0
}

enum Event<Head: Equatable>: Equatable {
    /// A head, and the offset in the whole input just past it.
    case head(Head, end: Int)
    case failure(HTTPError)
    case needMore
}

/// Feeds `input` in chunks ending at `ends`; after a head, the rest of its chunk goes to the (reset) parser.
func requestEvents(_ input: UnsafeRawBufferPointer, _ ends: [Int], _ limits: HTTPLimits) -> [Event<HTTPRequestHead>] {
    var parser = HTTPHeadParser(limits: limits)
    return events(input, ends) { parser.feed($0) } map: {
        switch $0 {
        case .needMore: nil
        case .complete(let head, let consumed): (.head(head, end: 0), consumed)
        case .failure(let error): (.failure(error), 0)
        }
    }
}

func responseEvents(
    _ input: UnsafeRawBufferPointer, _ ends: [Int], _ limits: HTTPLimits
) -> [Event<HTTPResponseHead>] {
    var parser = HTTPResponseHeadParser(limits: limits)
    return events(input, ends) { parser.feed($0) } map: {
        switch $0 {
        case .needMore: nil
        case .complete(let head, let consumed): (.head(head, end: 0), consumed)
        case .failure(let error): (.failure(error), 0)
        }
    }
}

/// The shared feed loop: `map` turns a parser result into an event and the bytes it consumed (nil: need more).
func events<Head: Equatable, R>(
    _ input: UnsafeRawBufferPointer, _ ends: [Int], feed: (UnsafeRawBufferPointer) -> R,
    map: (R) -> (Event<Head>, Int)?
) -> [Event<Head>] {
    var out: [Event<Head>] = []
    var start = 0
    for end in ends {
        var at = start
        while true {
            let chunk = UnsafeRawBufferPointer(rebasing: input[at..<end])
            guard let (event, consumed) = map(feed(chunk)) else { break }
            switch event {
            case .head(let head, _):
                require(consumed >= 0 && consumed <= chunk.count, "consumed \(consumed) of \(chunk.count)")
                out.append(.head(head, end: at + consumed))
                at += consumed
                if out.count >= 8 { return out }  // pipelined heads: a few are enough
            case .failure(let error):
                // After a failure the parser keeps returning it, whatever follows.
                if let (again, _) = map(feed(UnsafeRawBufferPointer(rebasing: input[end...]))) {
                    require(again == event, "a failed parser changed its answer")
                }
                out.append(.failure(error))
                return out
            case .needMore:
                break
            }
            if at == end { break }
        }
        start = end
    }
    out.append(.needMore)
    return out
}

func check(_ head: HTTPRequestHead) {
    // Both query readers must agree: the byte scanner and the general one over Characters.
    if let query = head.query {
        var names = ["access_token", "token", "", "a"]
        for pair in query.split(separator: "&").prefix(6) {
            let raw = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
            if let name = HTTPSyntax.percentDecode(raw) { names.append(name) }
        }
        for name in names {
            let fast = head.queryItem(name), general = HTTPRequestHead.queryItemByCharacters(name, in: query)
            require(fast == general, "queryItem(\(name)) differs: \(String(describing: fast)) vs general")
        }
    }

    // The handshake answers every head; its response (101 or an error) must parse back.
    switch WebSocketHandshake.accept(head) {
    case .success(let accepted):
        let response = parseResponse(accepted.response)
        require(response.status == 101, "101 response parsed as \(response.status)")
        let key = head.header("Sec-WebSocket-Key") ?? ""
        require(response.header("Sec-WebSocket-Accept") == WebSocketHandshake.acceptValue(forKey: key),
                "Sec-WebSocket-Accept does not round-trip")
    case .failure(let refused):
        let response = parseResponse(refused.response)
        require(response.status == refused.error.status
                && response.reason == HTTPResponse.reasonPhrase(response.status),
                "error response does not round-trip")
    }

    // The response encoder writes these fields back as they were (control characters as spaces).
    let encoded = HTTPResponse.make(status: 200, headers: head.headers)
    let response = parseResponse(encoded, bodyFollows: false)  // the fields may hold any Content-Length
    var expected = head.headers.map { h in
        HTTPHeader(name: h.name, value: String(decoding: h.value.utf8.map { $0 < 0x20 || $0 == 0x7F ? 0x20 : $0 },
                                               as: UTF8.self))
    }
    if !head.headers.contains(where: { HTTPHeader.nameEquals($0.name, "Content-Length") }) {
        expected.append(HTTPHeader(name: "Content-Length", value: "0"))
    }
    require(response.headers == expected, "response headers do not round-trip")
}

/// A response the encoders wrote: it must parse completely, with nothing but its body after the head.
func parseResponse(_ bytes: [UInt8], bodyFollows: Bool = true) -> HTTPResponseHead {
    let limits = HTTPLimits(maxHeadBytes: 1 << 20, maxHeaderCount: 1000, maxLineBytes: 1 << 20)
    var parser = HTTPResponseHeadParser(limits: limits)
    guard case .complete(let head, let consumed) = parser.feed(bytes) else {
        fatalError("fuzz check failed: an encoded response does not parse: \(String(decoding: bytes, as: UTF8.self))")
    }
    let length = Int(head.header("Content-Length") ?? "0") ?? -1
    require(!bodyFollows || consumed + length == bytes.count, "response body length does not match Content-Length")
    return head
}
