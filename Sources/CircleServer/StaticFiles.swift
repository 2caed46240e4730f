import CircleCrypto
import CircleHTTP
import CircleLoop
import Glibc

/// The web client's files (the session app and the JavaScript client library), read once at startup and served
/// from memory. Only an allow-list of names is ever served, so no request path reaches the file system.
///
/// Every answer carries `Cache-Control: no-cache` (browsers revalidate with the `ETag`), `X-Content-Type-Options:
/// nosniff`, `Referrer-Policy: no-referrer` (the app's URL may hold a token) and a strict
/// `Content-Security-Policy`: scripts, styles and connections only from this origin, no frames, no plugins.
public struct StaticFiles: Sendable {
    /// One servable file: its name under the web root and its media type.
    public struct Entry: Sendable, Equatable {
        /// The file's name under the web root and its URL path without the leading `/`.
        public var name: String
        /// The `Content-Type` it is served with.
        public var contentType: String
        /// Whether startup fails when the file is missing.
        public var required: Bool
    }

    /// The files that may be served. `/` serves `index.html`.
    public static let allowList: [Entry] = [
        Entry(name: "index.html", contentType: "text/html; charset=utf-8", required: true),
        Entry(name: "app.js", contentType: "text/javascript; charset=utf-8", required: true),
        Entry(name: "circle.js", contentType: "text/javascript; charset=utf-8", required: true),
        Entry(name: "circle.d.ts", contentType: "application/typescript; charset=utf-8", required: false),
        Entry(name: "style.css", contentType: "text/css; charset=utf-8", required: true),
    ]

    /// The policy sent with every file.
    public static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
        + "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"

    /// Files larger than this are refused at load (the web client is a few tens of KiB).
    public static let maxFileBytes = 4 << 20

    private struct Prepared: Sendable {
        /// The whole `200` response: head and body.
        var ok: [UInt8]
        /// The whole `304` response, for a matching `If-None-Match`.
        var notModified: [UInt8]
        var etag: String
    }

    /// Responses by URL path (`/index.html`, `/`, …).
    private var byPath: [String: Prepared] = [:]

    /// Loads the allow-listed files from `root`. Throws when a required file is missing, or any is unreadable or
    /// too large; an optional file that is missing is simply not served.
    public init(root: String) throws(StaticFilesError) {
        var files: [String: [UInt8]] = [:]
        for entry in Self.allowList {
            let path = root.hasSuffix("/") ? root + entry.name : root + "/" + entry.name
            switch Self.read(path) {
            case .success(let bytes): files[entry.name] = bytes
            case .failure(.missing) where !entry.required: continue
            case .failure(let error): throw error
            }
        }
        self.init(files: files)
    }

    /// Serves the given contents by name (names outside the allow-list are ignored). For tests and embedding.
    public init(files: [String: [UInt8]]) {
        for entry in Self.allowList {
            guard let body = files[entry.name] else { continue }
            let prepared = Self.prepare(entry, body: body)
            byPath["/" + entry.name] = prepared
            if entry.name == "index.html" { byPath["/"] = prepared }
        }
    }

    /// The URL paths served, sorted.
    public var paths: [String] { byPath.keys.sorted() }

    /// Whether `path` is one of these files.
    public func serves(_ path: String) -> Bool { byPath[path] != nil }

    /// The complete HTTP response for `head`, or nil when its path is not one of these files (the caller answers
    /// 404). A method other than GET is answered 405; a matching `If-None-Match` 304.
    public func response(for head: HTTPRequestHead) -> [UInt8]? {
        guard let prepared = byPath[head.path] else { return nil }
        guard head.method == "GET" else {
            return HTTPResponse.error(HTTPError(status: 405, reason: "Method Not Allowed"),
                                      extraHeaders: [HTTPHeader(name: "Allow", value: "GET")])
        }
        if Self.matches(head.headerListElements("If-None-Match"), prepared.etag) { return prepared.notModified }
        return prepared.ok
    }

    // MARK: Building responses

    private static func prepare(_ entry: Entry, body: [UInt8]) -> Prepared {
        let etag = "\"" + Base64.encodeURL(Crypto.sha1(body).prefix(12)) + "\""
        let common = [
            HTTPHeader(name: "ETag", value: etag),
            HTTPHeader(name: "Cache-Control", value: "no-cache"),
            HTTPHeader(name: "X-Content-Type-Options", value: "nosniff"),
            HTTPHeader(name: "Referrer-Policy", value: "no-referrer"),
            HTTPHeader(name: "Content-Security-Policy", value: contentSecurityPolicy),
            HTTPHeader(name: "Connection", value: "close"),
        ]
        let ok = HTTPResponse.make(status: 200, headers: [HTTPHeader(name: "Content-Type", value: entry.contentType)]
                                   + common, body: body)
        let notModified = HTTPResponse.make(status: 304,
                                            headers: common + [HTTPHeader(name: "Content-Length", value: "0")])
        return Prepared(ok: ok, notModified: notModified, etag: etag)
    }

    /// `If-None-Match`: `*` or a list of entity tags; weak tags compare by their opaque part (RFC 9110 §13.1.2).
    static func matches(_ tags: [String], _ etag: String) -> Bool {
        for element in tags {
            if element == "*" { return true }
            let tag = element.hasPrefix("W/") ? element.dropFirst(2) : element[...]
            if tag == etag[...] { return true }
        }
        return false
    }

    // MARK: Reading

    private static func read(_ path: String) -> Result<[UInt8], StaticFilesError> {
        FileContents.read(path, maxBytes: maxFileBytes).mapError { failure in
            switch failure {
            case .missing: .missing(file: path)
            case .unreadable: .unreadable(file: path)
            case .tooLarge: .tooLarge(file: path)
            }
        }
    }
}

/// Why the web root could not be loaded.
public enum StaticFilesError: Error, Equatable, CustomStringConvertible {
    /// A required file is not there.
    case missing(file: String)
    /// The file exists but cannot be read (permissions, a directory, an I/O error).
    case unreadable(file: String)
    /// The file exceeds `StaticFiles.maxFileBytes`.
    case tooLarge(file: String)

    public var description: String {
        switch self {
        case .missing(let file): "missing web file \(file)"
        case .unreadable(let file): "cannot read web file \(file)"
        case .tooLarge(let file): "web file too large: \(file)"
        }
    }
}
