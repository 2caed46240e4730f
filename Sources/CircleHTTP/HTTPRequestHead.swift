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
    public func queryItem(_ name: String) -> String? {
        guard let query else { return nil }
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
