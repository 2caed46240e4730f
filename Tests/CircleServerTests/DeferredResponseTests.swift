import CircleHTTP
import CircleLoop
@testable import CircleServer
import Testing

/// An application that answers `/later` through a responder it keeps, `/wrong` with a 405, and nothing else.
private final class LaterApplication: HTTPApplication {
    var responders: [HTTPResponder] = []
    let crossOrigin: Bool

    init(crossOrigin: Bool = false) { self.crossOrigin = crossOrigin }

    func route(_ head: HTTPRequestHead, connection: ServerConnection) -> RouteResult? {
        switch head.path {
        case "/later": return .deferred { self.responders.append($0) }
        case "/now-deferred": return .deferred { $0.respond(status: 200, body: Array("at once\n".utf8)) }
        case "/wrong": return .methodNotAllowed(allowed: ["GET", "HEAD"])
        default: return nil
        }
    }

    func servesCrossOrigin(_ path: String) -> Bool { crossOrigin && path == "/later" }
}

private final class OtherApplication: HTTPApplication {
    func route(_ head: HTTPRequestHead, connection: ServerConnection) -> RouteResult? {
        head.path == "/other" ? .response(status: 200, headers: [], body: Array("other\n".utf8)) : nil
    }
}

/// Deferred HTTP answers on a real server with real sockets: answered on a later loop turn, HEAD, timeouts, clients
/// that leave first, a shutdown while waiting, 405 from one place, several applications on one server.
@Suite struct DeferredResponseTests {
    private func make(_ app: LaterApplication, headTimeout: UInt64 = 10_000) throws -> TestServer {
        try TestServer({ $0.headTimeoutMilliseconds = headTimeout }, application: { _ in app })
    }

    private func send(_ env: TestServer, _ request: String) -> TestClient {
        TestClient.raw(env, Array(request.utf8))
    }

    private func body(_ c: TestClient) -> String {
        guard let range = c.rawResponseText.range(of: "\r\n\r\n") else { return "" }
        return String(c.rawResponseText[range.upperBound...])
    }

    @Test func answeredOnALaterTurnWhileTheConnectionWaits() throws {
        let app = LaterApplication()
        let env = try make(app)
        let c = send(env, "GET /later HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(env.run { app.responders.count == 1 })
        env.run(milliseconds: 100)
        #expect(c.status == nil && !c.tcpClosed, "nothing is sent before the application answers")
        let responder = app.responders[0]
        #expect(responder.isWaiting)
        responder.respond(status: 200, headers: [HTTPHeader(name: "Content-Type", value: "text/plain")],
                          body: Array("later\n".utf8))
        #expect(!responder.isWaiting)
        responder.respond(status: 500, body: Array("again\n".utf8))  // a second answer does nothing
        #expect(env.run { c.tcpClosed })
        #expect(c.status == 200)
        #expect(body(c) == "later\n", "one answer, and the pipelined request is not read")
        #expect(c.rawResponseText.contains("Connection: close\r\n"))
        env.shutDown()
    }

    @Test func answeredInsideStartIsSentToo() throws {
        let env = try make(LaterApplication())
        let c = send(env, "GET /now-deferred HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(env.run { c.tcpClosed })
        #expect(c.status == 200 && body(c) == "at once\n")
        env.shutDown()
    }

    @Test func headGetsTheHeadersAndLengthWithoutTheBody() throws {
        let app = LaterApplication()
        let env = try make(app)
        let c = send(env, "HEAD /later HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(env.run { app.responders.count == 1 })
        app.responders[0].respond(status: 200, body: Array("twelve bytes".utf8))
        #expect(env.run { c.tcpClosed })
        #expect(c.status == 200)
        #expect(c.rawResponseText.contains("Content-Length: 12\r\n"))
        #expect(c.rawResponseText.hasSuffix("\r\n\r\n"))
        env.shutDown()
    }

    @Test func unansweredRequestsGet503AfterTheTimeout() throws {
        let app = LaterApplication()
        let env = try make(app, headTimeout: 400)  // a 100 ms sweep
        env.server.deferredTimeoutMilliseconds = 300
        let c = send(env, "GET /later HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(env.run { c.tcpClosed })
        #expect(c.status == 503)
        #expect(c.rawResponseText.contains("Retry-After: 5\r\n"))
        let responder = try #require(app.responders.first)
        #expect(!responder.isWaiting)
        responder.respond(status: 200, body: Array("too late\n".utf8))  // after the 503: nothing
        #expect(env.logs.text.contains("deferred response timed out"))
        env.shutDown()
    }

    @Test func aClientThatLeavesFirstMakesTheAnswerANoOp() throws {
        let app = LaterApplication()
        let env = try make(app)
        let c = send(env, "GET /later HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(env.run { app.responders.count == 1 && env.server.connectionCount == 1 })
        c.tcp?.close()
        #expect(env.run { env.server.connectionCount == 0 })
        let responder = app.responders[0]
        #expect(!responder.isWaiting)
        responder.respond(status: 200, body: Array("nobody hears\n".utf8))
        #expect(responder.isAnswered)
        // The server goes on serving.
        let next = send(env, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(env.run { next.tcpClosed })
        #expect(next.status == 200)
        env.shutDown()
    }

    @Test func aShutdownAnswersWaitingRequests503() throws {
        let app = LaterApplication()
        let env = try make(app)
        let c = send(env, "GET /later HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(env.run { app.responders.count == 1 })
        env.shutDown()
        #expect(c.status == 503)
        #expect(c.rawResponseText.contains("Server shutting down"))
    }

    @Test func methodNotAllowedListsTheMethods() throws {
        let env = try make(LaterApplication())
        let c = send(env, "DELETE /wrong HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(env.run { c.tcpClosed })
        #expect(c.status == 405)
        #expect(c.rawResponseText.contains("Allow: GET, HEAD\r\n"))
        env.shutDown()
    }

    @Test func deferredAnswersCarryCORSWhereTheApplicationAsks() throws {
        let app = LaterApplication(crossOrigin: true)
        let env = try TestServer({ $0.allowedOrigins = ["https://platform.example"] }, application: { _ in app })
        let c = send(env, "GET /later HTTP/1.1\r\nHost: x\r\nOrigin: https://platform.example\r\n\r\n")
        #expect(env.run { app.responders.count == 1 })
        app.responders[0].respond(status: 200, body: Array("x".utf8))
        #expect(env.run { c.tcpClosed })
        #expect(c.rawResponseText.contains("Access-Control-Allow-Origin: https://platform.example\r\n"))
        #expect(c.rawResponseText.contains("Vary: Origin\r\n"))
        let preflight = send(env, "OPTIONS /later HTTP/1.1\r\nHost: x\r\nOrigin: https://platform.example\r\n"
                                 + "Access-Control-Request-Method: GET\r\n\r\n")
        #expect(env.run { preflight.tcpClosed })
        #expect(preflight.status == 204)
        #expect(preflight.rawResponseText.contains("Access-Control-Allow-Headers: Authorization"))
        env.shutDown()
    }

    @Test func severalApplicationsShareOneServer() throws {
        let app = LaterApplication()
        let chain = HTTPApplications([app, OtherApplication()])
        let env = try TestServer(application: { _ in chain })
        let other = send(env, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n")
        let none = send(env, "GET /none HTTP/1.1\r\nHost: x\r\n\r\n")
        let later = send(env, "GET /now-deferred HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(env.run { other.tcpClosed && none.tcpClosed && later.tcpClosed })
        #expect(other.status == 200 && body(other) == "other\n")
        #expect(none.status == 404)
        #expect(later.status == 200)
        env.shutDown()
        withExtendedLifetime(chain) {}
    }
}
