/// A parsed HTTP/1.x response head (the client side of a WebSocket handshake).
public struct HTTPResponseHead: Sendable, Equatable, HTTPHeaderFields {
    /// The `x` of `HTTP/1.x`.
    public var versionMinor: Int
    /// The three-digit status code.
    public var status: Int
    /// The reason phrase, possibly empty.
    public var reason: String
    /// The header fields in the order received.
    public var headers: [HTTPHeader]

    /// A response head.
    public init(versionMinor: Int = 1, status: Int, reason: String, headers: [HTTPHeader] = []) {
        self.versionMinor = versionMinor
        self.status = status
        self.reason = reason
        self.headers = headers
    }
}

/// The outcome of feeding bytes to `HTTPResponseHeadParser`.
public enum HTTPResponseParseResult: Sendable, Equatable {
    /// Feed more bytes.
    case needMore
    /// The head is complete; `consumed` bytes of the last input belong to it, the rest to the caller.
    case complete(HTTPResponseHead, consumed: Int)
    /// The head is malformed or over a cap. `status` tells the kind (400 malformed, 431 too large, 505 version).
    case failure(HTTPError)
}

/// An incremental, strict HTTP/1.x response-head parser with the same line rules and caps as `HTTPHeadParser`:
/// status line `HTTP/1.x SP 3DIGIT SP reason CRLF` (a missing final SP before an empty reason is tolerated).
public struct HTTPResponseHeadParser: Sendable {
    private var assembler: HTTPHeadAssembler<(versionMinor: Int, status: Int, reason: String)>

    /// A parser enforcing `limits`.
    public init(limits: HTTPLimits = .init()) {
        assembler = HTTPHeadAssembler(limits: limits,
                                      startLineTooLong: HTTPError(status: 431, reason: "Status line too long"))
    }

    /// Feeds the next bytes from the connection, in any split.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> HTTPResponseParseResult {
        let outcome = assembler.feed(bytes, parseStart: Self.parseStatusLine) { line, headers in
            .success(HTTPResponseHead(versionMinor: line.versionMinor, status: line.status, reason: line.reason,
                                      headers: headers))
        }
        switch outcome {
        case .needMore: return .needMore
        case .complete(let head, let consumed): return .complete(head, consumed: consumed)
        case .failure(let error): return .failure(error)
        }
    }

    /// Feeds bytes from an array (convenience for tests and tools).
    public mutating func feed(_ bytes: [UInt8]) -> HTTPResponseParseResult {
        bytes.withUnsafeBytes { feed($0) }
    }

    private static func parseStatusLine(
        _ line: UnsafeRawBufferPointer
    ) -> Result<(versionMinor: Int, status: Int, reason: String), HTTPError> {
        let malformed = HTTPError(status: 400, reason: "Malformed status line")
        guard line.count >= 12, line[8] == HTTPSyntax.sp else { return .failure(malformed) }
        let minor: Int
        switch HTTPSyntax.parseVersion(UnsafeRawBufferPointer(rebasing: line[0..<8])) {
        case .success(let m): minor = m
        case .failure(let error): return .failure(error)
        }
        let code = line[9..<12]
        guard code.allSatisfy(HTTPSyntax.isDigit), code.first != 0x30 else { return .failure(malformed) }
        let status = code.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        guard line.count == 12 || line[12] == HTTPSyntax.sp else { return .failure(malformed) }
        let reason = line.count > 13 ? line[13...] : line[line.count...]
        guard reason.allSatisfy(HTTPSyntax.isFieldValueByte) else { return .failure(malformed) }
        return .success((minor, status, String(decoding: UnsafeRawBufferPointer(rebasing: reason), as: UTF8.self)))
    }
}
