import CircleAuth
import CircleCrypto
import CircleHTTP
import CircleLoop
import CircleRoom
import CircleServer
import CircleStore
import Glibc
import Logging

/// What the records routes are told by `circle serve`.
public struct RecordsConfiguration: Sendable {
    /// The join-token secret; nil: no token can be checked, so `GET /groups/{id}/attendance` answers 404.
    public var tokenSecret: [UInt8]?
    public var tokenLeewaySeconds: Int64 = 5
    public var maxTokenLifetimeSeconds: Int64 = 86_400
    /// The operator's credential for erasure; nil: `DELETE /groups/{id}/participants/{sub}` answers 404.
    public var operatorCredential: OperatorCredential?
    /// Records (sessions and their attendance) older than this many days are deleted (`--records-days`).
    public var retentionDays = 365

    public init() {}
}

/// The records routes, over a ``RecordStore`` (the protocol, so any store can stand behind them):
///
/// - `GET|HEAD /groups/{id}/attendance[?format=json|csv]` with `Authorization: Bearer <join token for {id}>`: a
///   facilitator's (or co-facilitator's) token reads the whole report, a member's or observer's their own rows.
/// - `DELETE /groups/{id}/participants/{sub}` with `Authorization: Bearer <operator secret>`: erases that person's
///   attendance in that group and answers `{"erased": n}`.
///
/// It also runs retention: ``startRetention()`` deletes records past `retentionDays` now and then once a day.
/// Everything runs on the loop thread; the store's completions arrive there too.
public final class RecordsService: HTTPApplication {
    private let store: RecordStore
    private let loop: EventLoop
    private let logger: Logger
    private let configuration: RecordsConfiguration
    private let verifier: TokenVerifier?
    /// Unix milliseconds now; tests put records' "now" where they need it.
    private let clock: () -> Int64
    private var retentionTimer: LoopTimer?
    /// Completed retention runs and what the last one deleted (sessions), for tests and logs.
    public private(set) var retentionRuns = 0
    public private(set) var lastRetentionDeleted: Int?

    public static let dayMilliseconds: Int64 = 86_400_000

    public init(store: RecordStore, loop: EventLoop, logger: Logger, configuration: RecordsConfiguration,
                clock: @escaping () -> Int64 = RecordsService.wallClockMilliseconds) {
        self.store = store
        self.loop = loop
        self.logger = logger
        self.configuration = configuration
        self.clock = clock
        verifier = configuration.tokenSecret.map {
            TokenVerifier(secret: $0, leeway: configuration.tokenLeewaySeconds,
                          maxLifetime: configuration.maxTokenLifetimeSeconds)
        }
    }

    public static func wallClockMilliseconds() -> Int64 { EventLoop.wallNanoseconds / 1_000_000 }

    // MARK: Retention

    /// Deletes records older than `retentionDays` now, then every `intervalMilliseconds` (a day) on a loop timer.
    public func startRetention(intervalMilliseconds: UInt64 = 86_400_000) {
        guard retentionTimer == nil else { return }
        let timer = LoopTimer(loop: loop)
        timer.start(afterMilliseconds: 0, repeatMilliseconds: intervalMilliseconds) { [weak self] in
            self?.runRetention()
        }
        retentionTimer = timer
    }

    /// Stops the daily retention timer (so that the loop can end).
    public func stopRetention() {
        retentionTimer?.close()
        retentionTimer = nil
    }

    public func serverWillShutDown() { stopRetention() }

    private func runRetention() {
        let days = Int64(configuration.retentionDays)
        let cutoff = clock() - days * Self.dayMilliseconds
        store.deleteRecords(before: cutoff) { [weak self] result in
            guard let self else { return }
            retentionRuns += 1
            switch result {
            case .success(let count):
                lastRetentionDeleted = count
                logger.info("records retention", metadata: [
                    "sessions_deleted": "\(count)", "days": "\(days)",
                    "before": "\(UTCTime.rfc3339(unixMilliseconds: cutoff))",
                ])
            case .failure(let error):
                logger.error("records retention failed", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: Routing

    public func servesCrossOrigin(_ path: String) -> Bool {
        guard case .attendance = Self.parse(path) else { return false }
        return true
    }

    enum Route: Equatable {
        case attendance(group: String)
        case participant(group: String, sub: String)
        /// Under `/groups/` but no such resource (a bad group id, a malformed sub).
        case unknown
    }

    /// `/groups/{id}/attendance` or `/groups/{id}/participants/{sub}` (sub percent-decoded); nil outside `/groups/`.
    static func parse(_ path: String) -> Route? {
        guard path.hasPrefix("/groups/") else { return nil }
        let parts = path.dropFirst("/groups/".count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 2, Room.isValidID(parts[0]) else { return .unknown }
        let group = String(parts[0])
        switch (parts.count, parts[1]) {
        case (2, "attendance"): return .attendance(group: group)
        case (3, "participants"):
            guard let sub = decodeSegment(parts[2]) else { return .unknown }
            return .participant(group: group, sub: sub)
        default: return .unknown
        }
    }

    /// A path segment's `%XX` escapes decoded (`+` stays `+`); nil when empty, badly escaped, not UTF-8, longer
    /// than a token's `sub` may be, or holding a control character (no token carries such a sub).
    static func decodeSegment(_ segment: Substring) -> String? {
        var out: [UInt8] = []
        var bytes = segment.utf8.makeIterator()
        while let b = bytes.next() {
            guard b == 0x25 else { out.append(b); continue }
            guard let h = bytes.next().flatMap(hexValue), let l = bytes.next().flatMap(hexValue) else { return nil }
            out.append(h << 4 | l)
        }
        guard !out.isEmpty, out.count <= TokenClaims.maxSubjectBytes,
              let text = String(validating: out, as: UTF8.self),
              !text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
        else { return nil }
        return text
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }

    public func route(_ head: HTTPRequestHead, connection: ServerConnection) -> RouteResult? {
        guard let route = Self.parse(head.path) else { return nil }
        switch route {
        case .unknown:
            return Self.text(404, "Not Found")
        case .attendance(let group):
            guard head.method == "GET" || head.method == "HEAD" else {
                return .methodNotAllowed(allowed: ["GET", "HEAD"])
            }
            return attendance(head, group: group)
        case .participant(let group, let sub):
            guard head.method == "DELETE" else { return .methodNotAllowed(allowed: ["DELETE"]) }
            return erase(head, group: group, sub: sub)
        }
    }

    // MARK: GET /groups/{id}/attendance

    enum Format { case json, csv }

    private func attendance(_ head: HTTPRequestHead, group: String) -> RouteResult {
        guard let verifier else { return Self.text(404, "Attendance is not served: no token secret") }
        guard let token = head.bearerToken else { return Self.unauthorized(error: nil) }
        let claims: TokenClaims
        switch verifier.verify(token, room: group, now: clock() / 1000) {
        case .success(let c): claims = c
        case .failure(.wrongRoom): return Self.text(403, "This token is for another group")
        case .failure(let error): return Self.unauthorized(error: error.reason)
        }
        let format: Format
        switch head.queryItem("format") {
        case nil, "json": format = .json
        case "csv": format = .csv
        default: return Self.text(400, "Unknown format: use json or csv")
        }
        // A facilitator (or co-facilitator) reads everyone's rows; anyone else only their own.
        let only: String? = claims.role.canFacilitate ? nil : claims.sub
        return .deferred { [self] responder in
            store.sessions(group: group) { [self] sessions in
                guard responder.isWaiting else { return }
                switch sessions {
                case .failure(let error): return unavailable(responder, error)
                case .success(let sessions):
                    store.attendance(group: group, sub: only) { [self] rows in
                        switch rows {
                        case .failure(let error): unavailable(responder, error)
                        case .success(let rows):
                            let report = AttendanceReport(group: group, sessions: sessions, attendance: rows)
                            Self.send(report, format: format, to: responder)
                        }
                    }
                }
            }
        }
    }

    private static func send(_ report: AttendanceReport, format: Format, to responder: HTTPResponder) {
        var headers = [HTTPHeader(name: "Cache-Control", value: "no-store")]
        switch format {
        case .json:
            headers.append(HTTPHeader(name: "Content-Type", value: "application/json"))
            responder.respond(status: 200, headers: headers, body: report.json())
        case .csv:
            headers.append(HTTPHeader(name: "Content-Type", value: "text/csv; charset=utf-8"))
            headers.append(HTTPHeader(name: "Content-Disposition",
                                      value: "attachment; filename=\"attendance-\(report.group).csv\""))
            headers.append(HTTPHeader(name: "Access-Control-Expose-Headers", value: "Content-Disposition"))
            responder.respond(status: 200, headers: headers, body: report.csv())
        }
    }

    private func unavailable(_ responder: HTTPResponder, _ error: StoreError) {
        logger.error("records read failed", metadata: ["error": "\(error)"])
        responder.respond(status: 503, headers: [
            HTTPHeader(name: "Retry-After", value: "5"), HTTPHeader(name: "Cache-Control", value: "no-store"),
            HTTPHeader(name: "Content-Type", value: "text/plain; charset=utf-8"),
        ], body: Array("Records unavailable\n".utf8))
    }

    // MARK: DELETE /groups/{id}/participants/{sub}

    private func erase(_ head: HTTPRequestHead, group: String, sub: String) -> RouteResult {
        guard let credential = configuration.operatorCredential else {
            return Self.text(404, "Erasure is not served: no operator secret")
        }
        guard let presented = head.bearerToken else { return Self.unauthorized(error: nil) }
        guard credential.accepts(presented) else {
            logRefusedErasure(group: group)
            return Self.unauthorized(error: "wrong operator credential")
        }
        let participant = credential.tag(group: group, sub: sub)
        return .deferred { [self] responder in
            store.erase(group: group, sub: sub) { [self] result in
                switch result {
                case .failure(let error):
                    unavailable(responder, error)
                case .success(let count):
                    // The sub itself is not logged: an HMAC under the operator secret lets an operator who knows the
                    // sub confirm the erasure, and tells nobody else who it was.
                    logger.notice("records erased", metadata: [
                        "group": "\(group)", "participant_hmac": "\(participant)", "rows": "\(count)",
                    ])
                    responder.respond(status: 200, headers: [
                        HTTPHeader(name: "Content-Type", value: "application/json"),
                        HTTPHeader(name: "Cache-Control", value: "no-store"),
                    ], body: Array("{\"erased\":\(count)}".utf8))
                }
            }
        }
    }

    /// Refused erasures are logged at most once a second; the ones in between are counted into the next line.
    private var refusedErasures = (second: Int64(0), suppressed: 0)

    private func logRefusedErasure(group: String) {
        let second = clock() / 1000
        guard second != refusedErasures.second else {
            refusedErasures.suppressed += 1
            return
        }
        logger.warning("records erasure refused: wrong operator credential", metadata: [
            "group": "\(group)", "suppressed": "\(refusedErasures.suppressed)",
        ])
        refusedErasures = (second, 0)
    }

    // MARK: Answers


    static func unauthorized(error: String?) -> RouteResult {
        let challenge = error == nil ? "Bearer" : "Bearer error=\"invalid_token\""
        return .response(status: 401, headers: [
            HTTPHeader(name: "WWW-Authenticate", value: challenge),
            HTTPHeader(name: "Access-Control-Expose-Headers", value: "WWW-Authenticate"),
            HTTPHeader(name: "Cache-Control", value: "no-store"),
            HTTPHeader(name: "Content-Type", value: "text/plain; charset=utf-8"),
        ], body: Array("\(error ?? "missing bearer token")\n".utf8))
    }

    static func text(_ status: Int, _ text: String) -> RouteResult {
        .response(status: status, headers: [
            HTTPHeader(name: "Cache-Control", value: "no-store"),
            HTTPHeader(name: "Content-Type", value: "text/plain; charset=utf-8"),
        ], body: Array("\(text)\n".utf8))
    }
}
