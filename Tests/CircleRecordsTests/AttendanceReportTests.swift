import CircleJSON
import Foundation
@testable import CircleRecords
import CircleStore
import Testing

@Suite("Attendance report")
struct AttendanceReportTests {
    static let sessions = [
        SessionRecord(group: "g", number: 1, openedAt: 1_764_950_400_000, closedAt: 1_764_955_800_000),
        SessionRecord(group: "g", number: 2, openedAt: 1_765_555_200_000),
    ]
    static let rows = [
        AttendanceRecord(group: "g", session: 1, sub: "m-1", name: "Ana, \"A\"", role: "participant",
                         firstJoin: 1_764_950_460_000, lastLeave: 1_764_955_800_000, connectedMs: 5_340_000,
                         drops: 1, resumes: 1, turns: 2, passes: 1, spokenMs: 240_000, handsRaised: 3,
                         privateSent: 1),
        AttendanceRecord(group: "g", session: 1, sub: "f-1", name: "=HYPERLINK(\"x\")", role: "facilitator",
                         firstJoin: 1_764_950_400_000),
        AttendanceRecord(group: "g", session: 2, sub: "m-1", name: "Ana", role: "participant",
                         firstJoin: 1_765_555_260_000),
    ]
    let report = AttendanceReport(group: "g", sessions: sessions, attendance: rows)

    @Test func jsonHasEverySessionWithItsParticipants() throws {
        let json = try JSON.parse(report.json())
        #expect(json["group"]?.stringValue == "g")
        let sessions = try #require(json["sessions"]?.arrayValue)
        #expect(sessions.count == 2)
        #expect(sessions[0]["opened_at"]?.stringValue == "2025-12-05T16:00:00Z")
        #expect(sessions[0]["closed_at"]?.stringValue == "2025-12-05T17:30:00Z")
        #expect(sessions[1]["closed_at"] == .null)
        let first = try #require(sessions[0]["participants"]?.arrayValue)
        #expect(first.map { $0["participant"]?.stringValue } == ["m-1", "f-1"])
        #expect(first[0]["name"]?.stringValue == "Ana, \"A\"")
        #expect(first[0]["connected_ms"]?.intValue == 5_340_000)
        #expect(first[0]["spoken_ms"]?.intValue == 240_000)
        #expect(first[0]["private_words_sent"]?.intValue == 1)
        #expect(first[1]["last_leave"] == .null)
        #expect(sessions[1]["participants"]?.arrayValue?.count == 1)
    }

    @Test func csvHasAHeaderAndOneRowPerParticipantPerSession() {
        let lines = String(decoding: report.csv(), as: UTF8.self).components(separatedBy: "\r\n")
        #expect(lines[0] == "session,opened_at,closed_at,participant,name,role,first_join,last_leave,connected_ms,"
            + "spoken_ms,turns,passes,hands_raised,drops,resumes,private_words_sent")
        #expect(lines[1] == "1,2025-12-05T16:00:00Z,2025-12-05T17:30:00Z,m-1,\"Ana, \"\"A\"\"\",participant,"
            + "2025-12-05T16:01:00Z,2025-12-05T17:30:00Z,5340000,240000,2,1,3,1,1,1")
        #expect(lines[2].hasPrefix("1,2025-12-05T16:00:00Z,2025-12-05T17:30:00Z,f-1,\"'=HYPERLINK(\"\"x\"\")\","))
        #expect(lines[3].hasPrefix("2,2025-12-12T16:00:00Z,,m-1,Ana,participant,"))
        #expect(lines.count == 5 && lines[4] == "")
    }

    @Test func csvDefusesEveryFormulaPrefix() {
        for prefix in ["=", "+", "-", "@", "\t", "\r"] {
            #expect(AttendanceReport.csvField(prefix + "1").unicodeScalars.first == "'" ||
                    AttendanceReport.csvField(prefix + "1").hasPrefix("\"'"))
        }
        #expect(AttendanceReport.csvField("Ana") == "Ana")
    }

    @Test func utcTimesMatchTheCalendar() {
        #expect(UTCTime.rfc3339(unixMilliseconds: 0) == "1970-01-01T00:00:00Z")
        #expect(UTCTime.rfc3339(unixMilliseconds: 951_782_400_000) == "2000-02-29T00:00:00Z")
        #expect(UTCTime.rfc3339(unixMilliseconds: 4_107_542_399_999, milliseconds: true) == "2100-02-28T23:59:59.999Z")
        #expect(UTCTime.rfc3339(unixMilliseconds: -1, milliseconds: true) == "1969-12-31T23:59:59.999Z")
        #expect(UTCTime.rfc3339(unixMilliseconds: 1_798_761_599_000) == "2026-12-31T23:59:59Z")
    }

    @Test func theOperatorCredentialIsLongAndComparedWhole() throws {
        let secret = String(repeating: "k", count: 40)
        let credential = try #require(OperatorCredential(fileText: secret + "\n"))
        #expect(credential.accepts(secret))
        #expect(!credential.accepts(secret + "x"))
        #expect(!credential.accepts(String(secret.dropLast())))
        #expect(OperatorCredential(fileText: String(repeating: "k", count: 31)) == nil)
    }
}
