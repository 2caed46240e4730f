import CircleHTTP

/// CORS for the public routes, so a page on another origin can import `/circle.js` and read why a room refused it.
///
/// With `allowedOrigins` (`--allow-origin`), a listed origin gets itself back in `Access-Control-Allow-Origin` and
/// other origins get none. With no list, any origin may open a room's WebSocket already, so every response says
/// `Access-Control-Allow-Origin: *`: nothing here rides on cookies (tokens are bearer tokens, sent explicitly), so
/// a wildcard exposes nothing a page could not learn through the socket itself. Every answer carries
/// `Vary: Origin`, so a cache never serves one origin's answer to another.
struct CrossOrigin: Sendable {
    /// Origins allowed to read responses; nil allows any.
    var allowedOrigins: Set<String>?

    /// How long a browser may keep a preflight's answer.
    static let preflightMaxAgeSeconds = 600

    /// The value for `Access-Control-Allow-Origin` for a request from `origin`, or nil for none.
    func allowOrigin(_ origin: String?) -> String? {
        guard let allowed = allowedOrigins else { return "*" }
        guard let origin, allowed.contains(origin) else { return nil }
        return origin
    }

    /// The headers every public response gets for a request with `head`.
    func headers(for head: HTTPRequestHead) -> [HTTPHeader] {
        var headers = [HTTPHeader(name: "Vary", value: "Origin")]
        if let value = allowOrigin(head.header("Origin")) {
            headers.append(HTTPHeader(name: "Access-Control-Allow-Origin", value: value))
        }
        return headers
    }

    /// The answer to a CORS preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`), or nil when
    /// `head` is not one. Only GET is offered, with the `Authorization` header (the library's probe sends it).
    func preflight(_ head: HTTPRequestHead) -> [UInt8]? {
        guard head.method == "OPTIONS", head.header("Access-Control-Request-Method") != nil,
              let origin = head.header("Origin") else { return nil }
        guard let value = allowOrigin(origin) else {
            return HTTPResponse.error(HTTPError(status: 403, reason: "Origin not allowed"),
                                      extraHeaders: [HTTPHeader(name: "Vary", value: "Origin")])
        }
        return HTTPResponse.make(status: 204, headers: [
            HTTPHeader(name: "Access-Control-Allow-Origin", value: value),
            HTTPHeader(name: "Access-Control-Allow-Methods", value: "GET"),
            HTTPHeader(name: "Access-Control-Allow-Headers", value: "Authorization"),
            HTTPHeader(name: "Access-Control-Max-Age", value: String(Self.preflightMaxAgeSeconds)),
            HTTPHeader(name: "Vary", value: "Origin"),
            HTTPHeader(name: "Connection", value: "close"),
        ])
    }

    /// `response` (a complete HTTP/1.1 response) with `headers` added after its status line.
    static func adding(_ headers: [HTTPHeader], to response: [UInt8]) -> [UInt8] {
        guard !headers.isEmpty, let lineEnd = statusLineEnd(response) else { return response }
        var out: [UInt8] = []
        out.reserveCapacity(response.count + headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 })
        out.append(contentsOf: response[..<lineEnd])
        for h in headers {
            out.append(contentsOf: h.name.utf8)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: h.value.utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        out.append(contentsOf: response[lineEnd...])
        return out
    }

    /// The index just after the status line's CRLF.
    private static func statusLineEnd(_ response: [UInt8]) -> Int? {
        var i = 0
        while i + 1 < response.count {
            if response[i] == 0x0D && response[i + 1] == 0x0A { return i + 2 }
            i += 1
        }
        return nil
    }
}
