import CircleBytes

/// The outcome of feeding bytes to `HTTPHeadParser`.
public enum HTTPParseResult: Sendable, Equatable {
    /// The head is not complete yet; feed more bytes.
    case needMore
    /// The head is complete. `consumed` is how many bytes of the LAST input belong to the head; the rest
    /// (for example a WebSocket frame sent right behind the head) belongs to the caller.
    case complete(HTTPRequestHead, consumed: Int)
    /// The head is malformed or over a cap; answer with `HTTPResponse.error(_:)` and close.
    case failure(HTTPError)
}

/// An incremental, strict HTTP/1.1 request-head parser (RFC 9112). Pure: bytes in, a head or an error out.
///
/// Rules:
/// - Request line `method SP request-target SP HTTP/1.x CRLF`: the method is a token, the target is visible ASCII
///   in origin-form (`/path?query`) or absolute-form (`http://host/path?query`, §3.2.2), which is kept as the
///   origin-form it names. `HTTP/1.0` parses (versionMinor 0); another major version is 505.
/// - Header lines `name ":" OWS value OWS CRLF`: token names with no whitespace before the colon, values of
///   visible ASCII, obs-text, SP and HTAB only; obsolete line folding is refused. Every line needs CRLF.
/// - HTTP/1.1 needs exactly one `Host` field (RFC 9112 §3.2), HTTP/1.0 at most one; otherwise 400.
/// - Empty lines before the request line are skipped (they count toward `maxHeadBytes`).
/// - Caps, checked before bytes are stored (positionally, so at most two bytes late for a line still lacking
///   its CRLF): a request line over `maxLineBytes` is 414, a header line over it
///   431, a head over `maxHeadBytes` 431, more than `maxHeaderCount` fields 431.
/// - Framing that could be read two ways is refused with 400 (§6.3): `Content-Length` with `Transfer-Encoding`,
///   and a `Content-Length` that is not one decimal number (several fields or list members must all agree).
///   Otherwise the body, if any, is not interpreted: the caller decides what to do with it.
///
/// Any split of the input gives the same result. After `.complete` the parser is ready for the next head;
/// after `.failure` it keeps returning that failure.
public struct HTTPHeadParser: Sendable {
    private var assembler: HTTPHeadAssembler<(method: String, target: String, versionMinor: Int)>

    /// A parser enforcing `limits`.
    public init(limits: HTTPLimits = .init()) {
        assembler = HTTPHeadAssembler(limits: limits, startLineTooLong: HTTPError(status: 414))
    }

    /// Feeds the next bytes from the connection, in any split.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> HTTPParseResult {
        switch assembler.feed(bytes, parseStart: Self.parseRequestLine, build: Self.makeHead) {
        case .needMore: .needMore
        case .complete(let head, let consumed): .complete(head, consumed: consumed)
        case .failure(let error): .failure(error)
        }
    }

    /// Feeds bytes from an array (convenience for tests and tools).
    public mutating func feed(_ bytes: [UInt8]) -> HTTPParseResult {
        bytes.withUnsafeBytes { feed($0) }
    }

    private static func makeHead(
        _ line: (method: String, target: String, versionMinor: Int), _ headers: [HTTPHeader]
    ) -> Result<HTTPRequestHead, HTTPError> {
        let head = HTTPRequestHead(method: line.method, target: line.target, versionMinor: line.versionMinor,
                                   headers: headers)
        let hosts = head.headerCount("Host")
        if hosts > 1 || (hosts == 0 && head.versionMinor >= 1) {
            return .failure(HTTPError(status: 400, reason: "Exactly one Host header is required"))
        }
        let lengths = head.headerValues("Content-Length")
        if !lengths.isEmpty {
            if head.headerCount("Transfer-Encoding") > 0 {
                return .failure(HTTPError(status: 400, reason: "Content-Length with Transfer-Encoding"))
            }
            guard contentLength(lengths) != nil else {
                return .failure(HTTPError(status: 400, reason: "Invalid Content-Length"))
            }
        }
        return .success(head)
    }

    /// The one length that every `Content-Length` field and list member states, or nil when they disagree or one is
    /// not a decimal number (RFC 9110 §8.6).
    static func contentLength(_ values: [String]) -> UInt64? {
        var agreed: UInt64?
        for value in values {
            for member in value.split(separator: ",", omittingEmptySubsequences: false) {
                let digits = member.utf8.drop(while: HTTPSyntax.isWhitespace).prefix { !HTTPSyntax.isWhitespace($0) }
                guard !digits.isEmpty, digits.count <= 19, digits.allSatisfy(HTTPSyntax.isDigit),
                      let length = UInt64(String(decoding: digits, as: UTF8.self)),
                      agreed == nil || agreed == length
                else { return nil }
                agreed = length
            }
        }
        return agreed
    }

    /// The origin-form (`/path?query`) of an absolute-form target (`http://authority/path?query`, any case of
    /// `http` or `https`), or nil when `target` is not one with a non-empty authority.
    static func originForm(ofAbsolute target: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        var schemeEnd = 0
        for scheme in ["http://", "https://"] where target.count > scheme.utf8.count {
            if zip(target, scheme.utf8).allSatisfy({ $0 | 0x20 == $1 | 0x20 }) { schemeEnd = scheme.utf8.count }
        }
        guard schemeEnd > 0 else { return nil }
        let rest = UnsafeRawBufferPointer(rebasing: target[schemeEnd...])
        let authorityEnd = rest.firstIndex { $0 == 0x2F || $0 == 0x3F || $0 == 0x23 } ?? rest.count
        guard authorityEnd > 0 else { return nil }
        return UnsafeRawBufferPointer(rebasing: rest[authorityEnd...])
    }

    private static func parseRequestLine(
        _ line: UnsafeRawBufferPointer
    ) -> Result<(method: String, target: String, versionMinor: Int), HTTPError> {
        let malformed = HTTPError(status: 400, reason: "Malformed request line")
        guard let sp1 = line.firstIndex(of: HTTPSyntax.sp), sp1 > 0,
              line[..<sp1].allSatisfy(HTTPSyntax.isTChar)
        else { return .failure(malformed) }
        let targetStart = sp1 + 1
        guard let sp2 = line[targetStart...].firstIndex(of: HTTPSyntax.sp), sp2 > targetStart else {
            return .failure(malformed)
        }
        let raw = UnsafeRawBufferPointer(rebasing: line[targetStart..<sp2])
        guard WordScan.allBytes(raw, in: 0x21, 0x7E) else {
            return .failure(HTTPError(status: 400, reason: "Invalid character in request target"))
        }
        let target: String
        if raw.first == 0x2F {
            target = String(decoding: raw, as: UTF8.self)
        } else if let path = originForm(ofAbsolute: raw) {
            let text = String(decoding: path, as: UTF8.self)
            target = path.first == 0x2F ? text : "/" + text
        } else {
            return .failure(HTTPError(status: 400, reason: "Request target must be in origin-form or absolute-form"))
        }
        let version = HTTPSyntax.parseVersion(UnsafeRawBufferPointer(rebasing: line[(sp2 + 1)...]))
        return version.map { minor in
            (String(decoding: UnsafeRawBufferPointer(rebasing: line[..<sp1]), as: UTF8.self), target, minor)
        }
    }
}
