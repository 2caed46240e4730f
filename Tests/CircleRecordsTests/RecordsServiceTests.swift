import CircleJSON
import CircleRoom
import CircleRecords
import CircleStore
import Foundation
import Testing

/// The records routes on a real server over a real SQLite store: records are written through the store API, then
/// read, refused and erased over HTTP.
@Suite struct RecordsServiceTests {
    static let monday: Int64 = 1_764_950_400_000  // 2025-12-05T16:00:00Z

    /// Two sessions of group `g` (a facilitator and two members in the first, one member in the second) and one of
    /// another group.
    private func seed(_ h: RecordsHarness) throws {
        try h.writeSession(group: "g", openedAt: Self.monday, closedAt: Self.monday + 5_400_000, rows: [
            ("f-1", "facilitator", "Fran"), ("m-1", "member", "Ana"), ("m-2", "member", "=Bo"),
        ])
        try h.writeSession(group: "g", openedAt: Self.monday + 7 * 86_400_000, closedAt: nil, rows: [
            ("m-1", "member", "Ana"),
        ])
        try h.writeSession(group: "other", openedAt: Self.monday, closedAt: nil, rows: [("m-1", "member", "Ana")])
    }

    private func participants(_ answer: Answer) throws -> [[String]] {
        let json = try JSON.parse(Array(answer.body.utf8))
        let sessions = try #require(json["sessions"]?.arrayValue)
        return sessions.map { ($0["participants"]?.arrayValue ?? []).compactMap { $0["participant"]?.stringValue } }
    }

    @Test func aFacilitatorReadsTheWholeReportAsJSON() throws {
        let h = try RecordsHarness()
        defer { h.close() }
        try seed(h)
        let answer = h.get("/groups/g/attendance", token: RecordsHarness.token(group: "g", sub: "f-1",
                                                                              role: .facilitator))
        #expect(answer.status == 200)
        #expect(answer.header("Content-Type") == "application/json")
        #expect(answer.header("Cache-Control") == "no-store")
        let json = try JSON.parse(Array(answer.body.utf8))
        #expect(json["group"]?.stringValue == "g")
        let sessions = try #require(json["sessions"]?.arrayValue)
        #expect(sessions.map { $0["number"]?.intValue } == [1, 2])
        #expect(sessions[0]["opened_at"]?.stringValue == "2025-12-05T16:00:00Z")
        #expect(sessions[0]["closed_at"]?.stringValue == "2025-12-05T17:30:00Z")
        #expect(sessions[1]["closed_at"] == .null)
        #expect(try participants(answer).map { Set($0) } == [["f-1", "m-1", "m-2"], ["m-1"]])
        let first = try #require(sessions[0]["participants"]?.arrayValue)
        let ana = try #require(first.first { $0["participant"]?.stringValue == "m-1" })
        #expect(ana["name"]?.stringValue == "Ana")
        #expect(ana["connected_ms"]?.intValue == 60_000)
        #expect(ana["spoken_ms"]?.intValue == 30_000)
        // A co-facilitator runs sessions too: the same report.
        let co = h.get("/groups/g/attendance", token: RecordsHarness.token(group: "g", sub: "c-1",
                                                                          role: .cofacilitator))
        #expect(co.status == 200 && co.body == answer.body)
        // HEAD: the same headers, no body.
        let head = h.request("HEAD", "/groups/g/attendance", headers: [
            "Authorization": "Bearer " + RecordsHarness.token(group: "g", sub: "f-1", role: .facilitator),
        ])
        #expect(head.status == 200 && head.body.isEmpty)
        #expect(head.header("Content-Length") == String(answer.body.utf8.count))
    }

    @Test func aMemberReadsOnlyTheirOwnRows() throws {
        let h = try RecordsHarness()
        defer { h.close() }
        try seed(h)
        for role in [Role.member, .observer] {
            let answer = h.get("/groups/g/attendance", token: RecordsHarness.token(group: "g", sub: "m-1", role: role))
            #expect(answer.status == 200)
            #expect(try participants(answer) == [["m-1"], ["m-1"]])
            let other = h.get("/groups/g/attendance", token: RecordsHarness.token(group: "g", sub: "m-2", role: role))
            #expect(try participants(other) == [["m-2"], []])
            #expect(!other.body.contains("Ana"))
        }
    }

    @Test func csvIsAnAttachmentWithOneRowPerParticipantPerSession() throws {
        let h = try RecordsHarness()
        defer { h.close() }
        try seed(h)
        let answer = h.get("/groups/g/attendance?format=csv",
                           token: RecordsHarness.token(group: "g", sub: "f-1", role: .facilitator))
        #expect(answer.status == 200)
        #expect(answer.header("Content-Type") == "text/csv; charset=utf-8")
        #expect(answer.header("Content-Disposition") == "attachment; filename=\"attendance-g.csv\"")
        let lines = answer.body.components(separatedBy: "\r\n")
        #expect(lines[0].hasPrefix("session,opened_at,closed_at,participant,name,role,"))
        #expect(lines.count == 6 && lines[5] == "")
        #expect(lines.contains { $0.contains(",m-2,'=Bo,member,") }, "formula cells are defused")
        let mine = h.get("/groups/g/attendance?format=csv",
                         token: RecordsHarness.token(group: "g", sub: "m-2", role: .member))
        #expect(mine.body.components(separatedBy: "\r\n").count == 3)
    }

    @Test func refusals() throws {
        let h = try RecordsHarness()
        defer { h.close() }
        try seed(h)
        let none = h.get("/groups/g/attendance", token: nil)
        #expect(none.status == 401)
        #expect(none.header("WWW-Authenticate") == "Bearer")
        let forged = RecordsHarness.token(group: "g", sub: "f-1", role: .facilitator).dropLast(2) + "xx"
        let bad = h.get("/groups/g/attendance", token: String(forged))
        #expect(bad.status == 401)
        #expect(bad.header("WWW-Authenticate") == "Bearer error=\"invalid_token\"")
        let operatorAsToken = h.get("/groups/g/attendance", token: RecordsHarness.operatorSecret)
        #expect(operatorAsToken.status == 401)
        let elsewhere = h.get("/groups/g/attendance", token: RecordsHarness.token(group: "other", sub: "f-1",
                                                                                 role: .facilitator))
        #expect(elsewhere.status == 403)
        let format = h.get("/groups/g/attendance?format=xml",
                           token: RecordsHarness.token(group: "g", sub: "f-1", role: .facilitator))
        #expect(format.status == 400)
        #expect(h.request("POST", "/groups/g/attendance").status == 405)
        #expect(h.request("POST", "/groups/g/attendance").header("Allow") == "GET, HEAD")
        #expect(h.request("GET", "/groups/g/participants/m-1").header("Allow") == "DELETE")
        #expect(h.get("/groups/bad%20id/attendance", token: nil).status == 404)
        #expect(h.get("/groups/g/nothing", token: nil).status == 404)
        #expect(h.get("/elsewhere", token: nil).status == 404)
    }

    @Test func aStoreFailureIs503() throws {
        let h = try RecordsHarness()
        defer { h.close() }
        try seed(h)
        h.store.close()
        let answer = h.get("/groups/g/attendance", token: RecordsHarness.token(group: "g", sub: "f-1",
                                                                              role: .facilitator))
        #expect(answer.status == 503)
        #expect(answer.header("Retry-After") == "5")
        #expect(h.logs.text.contains("records read failed"))
    }

    @Test func corsLikeTheRoomRoute() throws {
        let h = try RecordsHarness(allowedOrigins: ["https://platform.example"])
        defer { h.close() }
        try seed(h)
        let token = RecordsHarness.token(group: "g", sub: "f-1", role: .facilitator)
        let allowed = h.request("GET", "/groups/g/attendance", headers: [
            "Authorization": "Bearer \(token)", "Origin": "https://platform.example",
        ])
        #expect(allowed.status == 200)
        #expect(allowed.header("Access-Control-Allow-Origin") == "https://platform.example")
        #expect(allowed.header("Vary") == "Origin")
        let refused = h.request("GET", "/groups/g/attendance", headers: [
            "Authorization": "Bearer \(token)", "Origin": "https://evil.example",
        ])
        #expect(refused.header("Access-Control-Allow-Origin") == nil)
        let preflight = h.request("OPTIONS", "/groups/g/attendance", headers: [
            "Origin": "https://platform.example", "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        ])
        #expect(preflight.status == 204)
        #expect(preflight.header("Access-Control-Allow-Headers") == "Authorization")
        let unauthorized = h.request("GET", "/groups/g/attendance", headers: ["Origin": "https://platform.example"])
        #expect(unauthorized.status == 401)
        #expect(unauthorized.header("Access-Control-Allow-Origin") == "https://platform.example")
    }

    @Test func theOperatorErasesOnePersonInOneGroup() throws {
        let h = try RecordsHarness()
        defer { h.close() }
        try seed(h)
        let auth = ["Authorization": "Bearer \(RecordsHarness.operatorSecret)"]
        let wrong = h.request("DELETE", "/groups/g/participants/m-1",
                              headers: ["Authorization": "Bearer " + String(repeating: "x", count: 40)])
        #expect(wrong.status == 401)
        #expect(wrong.header("WWW-Authenticate") != nil)
        #expect(h.request("DELETE", "/groups/g/participants/m-1").status == 401)
        for _ in 0..<5 {
            _ = h.request("DELETE", "/groups/g/participants/m-1", headers: ["Authorization": "Bearer wrong"])
        }
        #expect(h.logs.text.components(separatedBy: "records erasure refused").count - 1 <= 2,
                "refusals are logged at most once a second")
        let joinToken = RecordsHarness.token(group: "g", sub: "f-1", role: .facilitator)
        #expect(h.request("DELETE", "/groups/g/participants/m-1",
                          headers: ["Authorization": "Bearer \(joinToken)"]).status == 401)
        #expect(try h.result { h.store.attendance(group: "g", sub: "m-1", completion: $0) }.count == 2)

        let erased = h.request("DELETE", "/groups/g/participants/m-1", headers: auth)
        #expect(erased.status == 200)
        #expect(erased.header("Content-Type") == "application/json")
        #expect(erased.body == "{\"erased\":2}")
        #expect(try h.result { h.store.attendance(group: "g", sub: "m-1", completion: $0) }.isEmpty)
        #expect(try h.result { h.store.attendance(group: "g", sub: "m-2", completion: $0) }.count == 1)
        #expect(try h.result { h.store.attendance(group: "other", sub: "m-1", completion: $0) }.count == 1)
        #expect(h.request("DELETE", "/groups/g/participants/m-1", headers: auth).body == "{\"erased\":0}")
        // A percent-encoded sub is decoded.
        try h.writeSession(group: "g", openedAt: Self.monday + 14 * 86_400_000, closedAt: nil,
                           rows: [("user/é 1", "member", "Eve")])
        #expect(h.request("DELETE", "/groups/g/participants/user%2F%C3%A9%201", headers: auth).body
                    == "{\"erased\":1}")
        // The log names the group and an HMAC of the sub, never the sub or a name.
        let log = h.logs.text
        #expect(log.contains("records erased"))
        #expect(log.contains("participant_hmac="))
        #expect(!log.contains("m-1") && !log.contains("Ana") && !log.contains("user/"))
    }

    @Test func withoutAnOperatorSecretErasureIsNotServed() throws {
        let h = try RecordsHarness(operatorSecret: false)
        defer { h.close() }
        try seed(h)
        let answer = h.request("DELETE", "/groups/g/participants/m-1",
                               headers: ["Authorization": "Bearer \(RecordsHarness.operatorSecret)"])
        #expect(answer.status == 404)
        #expect(try h.result { h.store.attendance(group: "g", sub: "m-1", completion: $0) }.count == 2)
    }

    @Test func retentionDeletesSessionsOlderThanTheSetting() throws {
        // "Now" is 2026-12-05; with 30 days kept, a session closed in November 2026 stays, one from 2025 goes.
        let now: Int64 = 1_796_486_400_000
        let h = try RecordsHarness(retentionDays: 30, clock: { now })
        defer { h.close() }
        try h.writeSession(group: "g", openedAt: Self.monday, closedAt: Self.monday + 3_600_000,
                           rows: [("m-1", "member", "Ana")])
        try h.writeSession(group: "g", openedAt: now - 10 * 86_400_000, closedAt: now - 10 * 86_400_000 + 3_600_000,
                           rows: [("m-1", "member", "Ana")])
        h.service.startRetention(intervalMilliseconds: 100)
        #expect(h.run { h.service.retentionRuns >= 2 }, "runs at start, then on its timer")
        #expect(h.service.retentionRuns >= 2)
        let sessions = try h.result { h.store.sessions(group: "g", completion: $0) }
        #expect(sessions.map(\.number) == [2])
        let rows = try h.result { h.store.attendance(group: "g", sub: nil, completion: $0) }
        #expect(rows.map(\.session) == [2])
        #expect(h.logs.text.contains("records retention"))
        #expect(h.logs.text.contains("sessions_deleted=1"))
    }
}
