import CircleHTTP
import CircleServer
import Glibc
import Testing

/// A temporary web root with the given files; removed by `remove()`.
private final class WebRoot {
    let path: String

    init(_ files: [String: String] = WebRoot.standard) {
        var template = Array("/tmp/circle-web-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        for (name, text) in files { write(name, Array(text.utf8)) }
    }

    static let standard: [String: String] = [
        "index.html": "<!doctype html><title>Circle</title>",
        "app.js": "import './circle.js';",
        "circle.js": "export class CircleClient {}",
        "circle.d.ts": "export declare class CircleClient {}",
        "style.css": "body { margin: 0 }",
        "secret.txt": "not for the web",
    ]

    func write(_ name: String, _ bytes: [UInt8]) {
        let f = fopen(path + "/" + name, "wb")!
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
    }

    func remove() {
        guard let dir = opendir(path) else { return }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(cString: $0.bindMemory(to: CChar.self).baseAddress!)
            }
            if name == "." || name == ".." { continue }
            let full = path + "/" + name
            if unlink(full) != 0 { rmdir(full) }
        }
        closedir(dir)
        rmdir(path)
    }
}

/// A parsed plain HTTP response.
private struct Answer {
    var status: Int
    var head: String
    var body: String

    init(_ client: TestClient) {
        status = client.status ?? -1
        let text = client.rawResponseText
        let split = text.range(of: "\r\n\r\n")
        head = split.map { String(text[..<$0.lowerBound]) } ?? text
        body = split.map { String(text[$0.upperBound...]) } ?? ""
    }

    /// The value of the first header named `name` (case-insensitive), or nil.
    func header(_ name: String) -> String? {
        for line in head.split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            if line[..<colon].lowercased() == name.lowercased() {
                return String(line[line.index(after: colon)...].drop(while: { $0 == " " }))
            }
        }
        return nil
    }
}

/// The web client's files, served from memory by the real server.
@Suite struct StaticFilesTests {
    private func get(_ env: TestServer, _ target: String, method: String = "GET", headers: String = "") -> Answer {
        let body = method == "GET" ? "" : "Content-Length: 0\r\n"
        let client = TestClient.raw(
            env, Array("\(method) \(target) HTTP/1.1\r\nHost: x\r\n\(headers)\(body)\r\n".utf8))
        env.run { client.tcpClosed }
        return Answer(client)
    }

    private func serving(_ root: WebRoot) throws -> TestServer {
        try TestServer { $0.webRoot = root.path }
    }

    @Test func rootServesTheIndexWithItsSecurityHeaders() throws {
        let root = WebRoot()
        defer { root.remove() }
        let env = try serving(root)
        let a = get(env, "/")
        #expect(a.status == 200)
        #expect(a.body == WebRoot.standard["index.html"])
        #expect(a.header("Content-Type") == "text/html; charset=utf-8")
        #expect(a.header("Content-Length") == "\(WebRoot.standard["index.html"]!.utf8.count)")
        #expect(a.header("Cache-Control") == "no-cache")
        #expect(a.header("X-Content-Type-Options") == "nosniff")
        #expect(a.header("Referrer-Policy") == "no-referrer")
        let csp = try #require(a.header("Content-Security-Policy"))
        #expect(csp.contains("default-src 'self'"))
        #expect(csp.contains("connect-src 'self' ws: wss:"))
        #expect(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"))
        #expect(a.header("ETag")?.hasPrefix("\"") == true)
        env.shutDown()
    }

    @Test func theTokenInTheQueryDoesNotChangeTheAnswer() throws {
        let root = WebRoot()
        defer { root.remove() }
        let env = try serving(root)
        let a = get(env, "/?room=demo&token=abc.def.ghi")
        #expect(a.status == 200)
        #expect(a.body == WebRoot.standard["index.html"])
        env.shutDown()
    }

    @Test(arguments: [
        ("/index.html", "text/html; charset=utf-8"),
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/circle.js", "text/javascript; charset=utf-8"),
        ("/circle.d.ts", "application/typescript; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
    ])
    func eachFileHasItsType(path: String, type: String) throws {
        let root = WebRoot()
        defer { root.remove() }
        let env = try serving(root)
        let a = get(env, path)
        #expect(a.status == 200)
        #expect(a.header("Content-Type") == type)
        #expect(a.body == WebRoot.standard[String(path.dropFirst())])
        env.shutDown()
    }

    @Test(arguments: ["/secret.txt", "/../Package.swift", "/./index.html", "/index.html/", "//index.html",
                      "/%69ndex.html", "/INDEX.HTML", "/app.js%00", "/Web/index.html", "/.git/config"])
    func anythingElseIsNotFound(path: String) throws {
        let root = WebRoot()
        defer { root.remove() }
        let env = try serving(root)
        let a = get(env, path)
        #expect(a.status == 404)
        #expect(!a.body.contains("not for the web"))
        env.shutDown()
    }

    @Test(arguments: ["POST", "PUT", "DELETE", "HEAD", "OPTIONS"])
    func onlyGetIsAllowed(method: String) throws {
        let root = WebRoot()
        defer { root.remove() }
        let env = try serving(root)
        let a = get(env, "/app.js", method: method)
        #expect(a.status == 405)
        #expect(a.header("Allow") == "GET")
        #expect(!a.body.contains("circle.js"))
        env.shutDown()
    }

    @Test func aMatchingETagIsNotModified() throws {
        let root = WebRoot()
        defer { root.remove() }
        let env = try serving(root)
        let etag = try #require(get(env, "/circle.js").header("ETag"))
        for tags in [etag, "\"other\", \(etag)", "W/\(etag)", "*"] {
            let a = get(env, "/circle.js", headers: "If-None-Match: \(tags)\r\n")
            #expect(a.status == 304, "If-None-Match: \(tags)")
            #expect(a.body.isEmpty)
            #expect(a.header("ETag") == etag)
        }
        let stale = get(env, "/circle.js", headers: "If-None-Match: \"stale\"\r\n")
        #expect(stale.status == 200)
        #expect(stale.body == WebRoot.standard["circle.js"])
        env.shutDown()
    }

    @Test func differentContentsHaveDifferentETags() {
        let a = StaticFiles(files: ["app.js": Array("a".utf8)])
        let b = StaticFiles(files: ["app.js": Array("b".utf8)])
        let head = HTTPRequestHead(method: "GET", target: "/app.js")
        let tagA = String(decoding: a.response(for: head)!, as: UTF8.self).split(separator: "\r\n").first {
            $0.hasPrefix("ETag:")
        }
        let tagB = String(decoding: b.response(for: head)!, as: UTF8.self).split(separator: "\r\n").first {
            $0.hasPrefix("ETag:")
        }
        #expect(tagA != nil && tagA != tagB)
    }

    @Test func filesAreReadOnceAtStartup() throws {
        let root = WebRoot()
        defer { root.remove() }
        let env = try serving(root)
        root.write("app.js", Array("changed on disk".utf8))
        #expect(get(env, "/app.js").body == WebRoot.standard["app.js"])
        env.shutDown()
    }

    @Test func noWebRootServesNoFiles() throws {
        let env = try TestServer()
        #expect(env.server.staticFiles == nil)
        #expect(get(env, "/").status == 404)
        #expect(get(env, "/app.js").status == 404)
        env.shutDown()
    }

    @Test func aMissingRequiredFileRefusesTheRoot() throws {
        var files = WebRoot.standard
        files["app.js"] = nil
        let root = WebRoot(files)
        defer { root.remove() }
        #expect(throws: StaticFilesError.missing(file: root.path + "/app.js")) { try StaticFiles(root: root.path) }
        let env = try serving(root)
        #expect(env.server.staticFiles == nil)
        #expect(get(env, "/").status == 404)
        #expect(env.logs.text.contains("web root not served"))
        env.shutDown()
    }

    @Test func aMissingOptionalFileIsJustNotServed() throws {
        var files = WebRoot.standard
        files["circle.d.ts"] = nil
        let root = WebRoot(files)
        defer { root.remove() }
        let served = try StaticFiles(root: root.path)
        #expect(served.paths == ["/", "/app.js", "/circle.js", "/index.html", "/style.css"])
    }

    @Test func aMissingRootIsMissingIndex() {
        #expect(throws: StaticFilesError.missing(file: "/nonexistent-circle-web/index.html")) {
            try StaticFiles(root: "/nonexistent-circle-web")
        }
    }

    @Test func aDirectoryInPlaceOfAFileIsUnreadable() throws {
        var files = WebRoot.standard
        files["style.css"] = nil
        let root = WebRoot(files)
        defer { root.remove() }
        mkdir(root.path + "/style.css", 0o755)
        #expect(throws: StaticFilesError.unreadable(file: root.path + "/style.css")) {
            try StaticFiles(root: root.path)
        }
    }

    @Test func anOversizedFileIsRefused() throws {
        let root = WebRoot()
        defer { root.remove() }
        root.write("circle.js", [UInt8](repeating: 0x20, count: StaticFiles.maxFileBytes + 1))
        #expect(throws: StaticFilesError.tooLarge(file: root.path + "/circle.js")) { try StaticFiles(root: root.path) }
    }

    @Test func theRootMayEndWithASlash() throws {
        let root = WebRoot()
        defer { root.remove() }
        let served = try StaticFiles(root: root.path + "/")
        #expect(served.paths.count == 6)
    }

    @Test func namesOutsideTheAllowListAreIgnored() {
        let served = StaticFiles(files: ["secret.txt": Array("x".utf8), "index.html": Array("i".utf8)])
        #expect(served.paths == ["/", "/index.html"])
        #expect(served.response(for: HTTPRequestHead(method: "GET", target: "/secret.txt")) == nil)
    }
}
