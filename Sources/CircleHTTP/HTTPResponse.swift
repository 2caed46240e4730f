/// Serializes HTTP/1.1 responses.
public enum HTTPResponse {
    /// The standard reason phrase of `status` (RFC 9110 §15), or "Unknown" for an unlisted code.
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 426: "Upgrade Required"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: "Unknown"
        }
    }

    /// `HTTP/1.1 <status> <reason>\r\n`, the headers, `Content-Length` (unless the status is 1xx or 204 with an
    /// empty body, or the caller supplied one), an empty line, then the body. Control characters in header names
    /// or values are replaced by spaces, so a value can never inject a line.
    public static func make(status: Int, headers: [HTTPHeader] = [], body: [UInt8] = []) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 } + body.count)
        out.append(contentsOf: "HTTP/1.1 \(status) \(reasonPhrase(status))\r\n".utf8)
        var hasLength = false
        for h in headers {
            hasLength = hasLength || HTTPSyntax.equalsIgnoringCase(h.name, "Content-Length")
            appendSanitized(h.name, to: &out)
            out.append(contentsOf: ": ".utf8)
            appendSanitized(h.value, to: &out)
            out.append(contentsOf: "\r\n".utf8)
        }
        let bodiless = (100..<200).contains(status) || status == 204
        if !hasLength && !(bodiless && body.isEmpty) {
            out.append(contentsOf: "Content-Length: \(body.count)\r\n".utf8)
        }
        out.append(contentsOf: "\r\n".utf8)
        out.append(contentsOf: body)
        return out
    }

    /// A plain-text error response with `Connection: close` and the body `<reason>\n`.
    public static func error(_ error: HTTPError, extraHeaders: [HTTPHeader] = []) -> [UInt8] {
        let headers = [
            HTTPHeader(name: "Content-Type", value: "text/plain; charset=utf-8"),
            HTTPHeader(name: "Connection", value: "close"),
        ] + extraHeaders
        return make(status: error.status, headers: headers, body: Array("\(error.reason)\n".utf8))
    }

    private static func appendSanitized(_ s: String, to out: inout [UInt8]) {
        for b in s.utf8 { out.append(b < 0x20 || b == 0x7F ? HTTPSyntax.sp : b) }
    }
}
