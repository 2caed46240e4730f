import CircleBytes

/// A parsed HTTP/1.x request head. Nothing is decoded beyond the syntax: the target is kept raw.
public struct HTTPRequestHead: Sendable, Equatable, HTTPHeaderFields {
    /// The method token, case preserved (`GET`).
    public var method: String
    /// The raw request-target in origin-form (`/path?query`).
    public var target: String
    /// The target before `?`, not percent-decoded.
    public var path: String
    /// The target after the first `?`, raw; nil when there is no `?`.
    public var query: String?
    /// The `x` of `HTTP/1.x`.
    public var versionMinor: Int
    /// The header fields in the order received.
    public var headers: [HTTPHeader]

    /// A head; `path` and `query` are derived from `target`.
    public init(method: String, target: String, versionMinor: Int = 1, headers: [HTTPHeader] = []) {
        self.method = method
        self.target = target
        self.versionMinor = versionMinor
        self.headers = headers
        if let q = target.utf8.firstIndex(of: 0x3F) {
            path = String(target[..<q])
            query = String(target[target.index(after: q)...])
        } else {
            path = target
            query = nil
        }
    }

    /// The percent-decoded value (`+` read as a space) of the first query parameter whose decoded name is `name`.
    /// A parameter without `=` has the value `""`. Nil when absent, or when the value has a bad escape or is not
    /// valid UTF-8.
    ///
    /// An ASCII query (every query a parsed head can carry: the parser admits only visible ASCII in the target) is
    /// scanned once as bytes, and only the value asked for is decoded. Anything else takes the general path, which
    /// splits and compares by `Character` exactly as this function always has.
    public func queryItem(_ name: String) -> String? {
        guard var query else { return nil }
        let fast = query.withUTF8 { QueryScanner(UnsafeRawBufferPointer($0)).item(name) }
        switch fast {
        case .found(let value): return value
        case .absent: return nil
        case .notASCII: return Self.queryItemByCharacters(name, in: query)
        }
    }

    /// The general form of ``queryItem(_:)``: splits on `&` and compares decoded names as Swift strings.
    static func queryItemByCharacters(_ name: String, in query: String) -> String? {
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let eq = pair.firstIndex(of: "=")
            let rawName = eq.map { pair[..<$0] } ?? pair
            guard HTTPSyntax.percentDecode(rawName) == name else { continue }
            guard let eq else { return "" }
            return HTTPSyntax.percentDecode(pair[pair.index(after: eq)...])
        }
        return nil
    }
}

/// One pass over an ASCII query's bytes for ``HTTPRequestHead/queryItem(_:)``.
///
/// In ASCII text every byte is its own `Character` (CR LF, the one two-byte cluster, holds neither `&` nor `=`),
/// so splitting bytes on `&` and `=` is what the `Character` split does. A parameter's name is compared without
/// decoding when it has no escape and `name` is ASCII (two ASCII strings are equal exactly when their bytes are);
/// any other name is decoded and compared as a `String`, which keeps Unicode canonical equivalence where it can
/// matter. A query with any non-ASCII byte is left to the general path.
struct QueryScanner {
    enum Outcome: Equatable {
        case found(String?)
        case absent
        case notASCII
    }

    private let bytes: UnsafeRawBufferPointer

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func item(_ name: String) -> Outcome {
        guard WordScan.isASCII(bytes) else { return .notASCII }
        var nameCopy = name
        return nameCopy.withUTF8 { item(name, UnsafeRawBufferPointer($0)) }
    }

    private func item(_ name: String, _ wanted: UnsafeRawBufferPointer) -> Outcome {
        let wantedIsASCII = wanted.allSatisfy { $0 < 0x80 }
        var start = 0
        let end = bytes.count
        while start < end {
            // The name: up to the first `=` or `&`, noting escapes; then the value, found word by word.
            var nameEnd = start
            var nameEscaped = false
            while nameEnd < end {
                let b = bytes[nameEnd]
                if b == 0x3D || b == 0x26 { break }  // = &
                if b == 0x25 || b == 0x2B { nameEscaped = true }  // % +
                nameEnd += 1
            }
            let eq = nameEnd < end && bytes[nameEnd] == 0x3D ? nameEnd : -1
            let pairEnd = eq < 0 ? nameEnd : (WordScan.firstIndex(of: 0x26, in: bytes, from: eq + 1, to: end) ?? end)
            if pairEnd > start {  // empty pairs are skipped
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<(eq < 0 ? pairEnd : eq)])
                let matches = !nameEscaped && wantedIsASCII ? raw.elementsEqual(wanted) : Self.decode(raw) == name
                if matches {
                    if eq < 0 { return .found("") }
                    return .found(Self.decode(UnsafeRawBufferPointer(rebasing: bytes[(eq + 1)..<pairEnd])))
                }
            }
            start = pairEnd + 1
        }
        return .absent
    }

    /// Percent-decodes (`+` as a space); nil on a bad escape or invalid UTF-8. A raw value with nothing to decode
    /// is ASCII (checked by the caller) and so valid as it is.
    static func decode(_ raw: UnsafeRawBufferPointer) -> String? {
        if !raw.contains(where: { $0 == 0x25 || $0 == 0x2B }) { return String(decoding: raw, as: UTF8.self) }
        return HTTPSyntax.percentDecode(raw)
    }
}
