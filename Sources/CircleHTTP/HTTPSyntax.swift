/// Byte-level grammar of RFC 9110/9112 shared by the request and response parsers.
enum HTTPSyntax {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let sp: UInt8 = 0x20
    static let ht: UInt8 = 0x09
    static let colon: UInt8 = 0x3A

    /// `tchar` of RFC 9110 §5.6.2: the characters of a method or a field name.
    @inline(__always)
    static func isTChar(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true  // DIGIT / ALPHA
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E:
            return true  // ! # $ % & ' * + - . ^ _ ` | ~
        default: return false
        }
    }

    /// A byte allowed inside a field value: VCHAR, obs-text, SP or HTAB (RFC 9110 §5.5). No CTL, no DEL.
    @inline(__always)
    static func isFieldValueByte(_ b: UInt8) -> Bool {
        b == ht || (b >= 0x20 && b != 0x7F)
    }

    @inline(__always)
    static func isWhitespace(_ b: UInt8) -> Bool { b == sp || b == ht }

    @inline(__always)
    static func lowercased(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

    /// ASCII case-insensitive equality (non-ASCII bytes must match exactly), comparing the bytes in place when both
    /// are contiguous (native strings and their substrings always are).
    static func equalsIgnoringCase<A: StringProtocol, B: StringProtocol>(_ a: A, _ b: B) -> Bool {
        let x = a.utf8, y = b.utf8
        guard x.count == y.count else { return false }
        let inPlace = x.withContiguousStorageIfAvailable { x in
            y.withContiguousStorageIfAvailable { y in
                for i in 0..<x.count where x[i] != y[i] && lowercased(x[i]) != lowercased(y[i]) { return false }
                return true
            }
        }
        if let inPlace, let equal = inPlace { return equal }
        return zip(x, y).allSatisfy { lowercased($0) == lowercased($1) }
    }

    /// Whether the comma-separated list `value` has an element equal to `token` (ASCII case-insensitive, OWS
    /// trimmed), scanning bytes; nil when `value` or `token` is not ASCII, for `listElements` to decide (its split
    /// is by `Character`, which for non-ASCII text is not a split of bytes).
    static func asciiListContains(_ value: String, _ token: String) -> Bool? {
        var value = value, token = token
        return value.withUTF8 { v in
            token.withUTF8 { t -> Bool? in
                guard v.allSatisfy({ $0 < 0x80 }), t.allSatisfy({ $0 < 0x80 }) else { return nil }
                var start = 0
                var found = false
                while start <= v.count {
                    var end = start
                    while end < v.count && v[end] != 0x2C { end += 1 }
                    var lo = start, hi = end
                    while lo < hi && isWhitespace(v[lo]) { lo += 1 }
                    while hi > lo && isWhitespace(v[hi - 1]) { hi -= 1 }
                    if hi > lo && hi - lo == t.count {
                        var same = true
                        for i in 0..<t.count where lowercased(v[lo + i]) != lowercased(t[i]) { same = false; break }
                        if same { found = true; break }
                    }
                    start = end + 1
                }
                return found
            }
        }
    }

    /// The elements of a comma-separated list value (RFC 9110 §5.6.1), trimmed of OWS, empty ones skipped.
    static func listElements(_ value: String) -> [Substring] {
        value.split(separator: ",").compactMap { element in
            let trimmed = element.drop(while: { $0 == " " || $0 == "\t" })
            let end = trimmed.lastIndex(where: { $0 != " " && $0 != "\t" })
            guard let end else { return nil }
            return trimmed[...end]
        }
    }

    /// Parses `HTTP/1.x` (exactly 8 bytes). Returns the minor version, a 505 for another major version,
    /// or a 400 for anything that is not an HTTP version at all.
    static func parseVersion(_ v: UnsafeRawBufferPointer) -> Result<Int, HTTPError> {
        let prefix: [UInt8] = [0x48, 0x54, 0x54, 0x50, 0x2F]  // "HTTP/"
        guard v.count == 8, v.prefix(5).elementsEqual(prefix), isDigit(v[5]), v[6] == 0x2E, isDigit(v[7]) else {
            return .failure(HTTPError(status: 400, reason: "Malformed HTTP version"))
        }
        guard v[5] == 0x31 else { return .failure(HTTPError(status: 505)) }
        return .success(Int(v[7] - 0x30))
    }

    @inline(__always)
    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// Parses a header line's content (CRLF removed): `token ":" OWS value OWS`, strict (RFC 9112 §5).
    static func parseHeaderLine(_ line: UnsafeRawBufferPointer) -> Result<HTTPHeader, HTTPError> {
        guard let first = line.first else { return .failure(HTTPError(status: 400, reason: "Empty header line")) }
        if isWhitespace(first) {
            return .failure(HTTPError(status: 400, reason: "Obsolete line folding is not accepted"))
        }
        var i = 0
        while i < line.count, isTChar(line[i]) { i += 1 }
        guard i < line.count, line[i] == colon else {
            return .failure(HTTPError(status: 400, reason: "Malformed header field name"))
        }
        guard i > 0 else { return .failure(HTTPError(status: 400, reason: "Empty header field name")) }
        let nameEnd = i
        i += 1
        while i < line.count, isWhitespace(line[i]) { i += 1 }
        var end = line.count
        while end > i, isWhitespace(line[end - 1]) { end -= 1 }
        for j in i..<end where !isFieldValueByte(line[j]) {
            return .failure(HTTPError(status: 400, reason: "Invalid character in header field value"))
        }
        let name = String(decoding: UnsafeRawBufferPointer(rebasing: line[0..<nameEnd]), as: UTF8.self)
        let value = String(decoding: UnsafeRawBufferPointer(rebasing: line[i..<end]), as: UTF8.self)
        return .success(HTTPHeader(name: name, value: value))
    }

    /// Decodes `%XX` escapes and `+` (as a space) of a query component; nil on a bad escape or invalid UTF-8.
    static func percentDecode(_ s: Substring) -> String? {
        var s = s
        return s.withUTF8 { percentDecode(UnsafeRawBufferPointer($0)) }
    }

    /// Percent-decodes bytes (`+` read as a space); nil on a bad escape or when the result is not valid UTF-8.
    static func percentDecode(_ raw: UnsafeRawBufferPointer) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        while i < raw.count {
            let b = raw[i]
            i += 1
            switch b {
            case 0x2B:
                out.append(sp)
            case 0x25:
                guard i + 1 < raw.count, let h = hexValue(raw[i]), let l = hexValue(raw[i + 1]) else { return nil }
                out.append(h << 4 | l)
                i += 2
            default:
                out.append(b)
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }
}
