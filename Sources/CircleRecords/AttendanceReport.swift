import CircleJSON
import CircleStore

/// A group's sessions and attendance, as `GET /groups/{id}/attendance` answers: JSON, or CSV with one row per
/// participant per session. Counts and times only; nothing anyone said.
public struct AttendanceReport: Sendable {
    public let group: String
    public let sessions: [SessionRecord]
    public let attendance: [AttendanceRecord]

    public init(group: String, sessions: [SessionRecord], attendance: [AttendanceRecord]) {
        self.group = group
        self.sessions = sessions
        self.attendance = attendance
    }

    /// `{"group": …, "sessions": [{"number", "opened_at", "closed_at", "participants": [{…}]}]}`, sessions oldest
    /// first, participants in the order the store gives (by sub).
    public func json() -> [UInt8] {
        var w = JSONWriter(capacity: 256 + attendance.count * 256)
        w.beginObject()
        w.key("group"); w.string(group)
        w.key("sessions"); w.beginArray()
        for session in sessions {
            w.beginObject()
            w.key("number"); w.int(session.number)
            w.key("opened_at"); w.string(UTCTime.rfc3339(unixMilliseconds: session.openedAt))
            w.key("closed_at")
            if let closed = session.closedAt { w.string(UTCTime.rfc3339(unixMilliseconds: closed)) } else { w.null() }
            w.key("participants"); w.beginArray()
            for r in attendance where r.session == session.number {
                w.beginObject()
                for (name, cell) in Self.columns(r) {
                    w.key(name)
                    switch cell {
                    case .text(let s): w.string(s)
                    case .number(let n): w.int(n)
                    case .time(let t): w.string(UTCTime.rfc3339(unixMilliseconds: t))
                    case .none: w.null()
                    }
                }
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    /// RFC 4180 CSV with a header row: the session's number and times, then the participant's columns as in JSON.
    /// A cell that a spreadsheet would read as a formula (`= + - @`, tab, CR first) is prefixed with `'`.
    public func csv() -> [UInt8] {
        let sessionColumns = ["session", "opened_at", "closed_at"]
        let header = sessionColumns + Self.columns(Self.sample).map(\.0)
        var out = header.joined(separator: ",") + "\r\n"
        let byNumber = Dictionary(sessions.map { ($0.number, $0) }, uniquingKeysWith: { a, _ in a })
        for r in attendance {
            guard let session = byNumber[r.session] else { continue }
            var cells = [String(session.number), UTCTime.rfc3339(unixMilliseconds: session.openedAt),
                         session.closedAt.map { UTCTime.rfc3339(unixMilliseconds: $0) } ?? ""]
            for (_, cell) in Self.columns(r) {
                switch cell {
                case .text(let s): cells.append(Self.csvField(s))
                case .number(let n): cells.append(String(n))
                case .time(let t): cells.append(UTCTime.rfc3339(unixMilliseconds: t))
                case .none: cells.append("")
                }
            }
            out += cells.joined(separator: ",") + "\r\n"
        }
        return Array(out.utf8)
    }

    enum Cell { case text(String), number(Int), time(Int64), none }

    /// One participant's columns, in order: the names are the JSON members and the CSV header.
    static func columns(_ r: AttendanceRecord) -> [(String, Cell)] {
        [
            ("participant", .text(r.sub)), ("name", .text(r.name)), ("role", .text(r.role)),
            ("first_join", .time(r.firstJoin)), ("last_leave", r.lastLeave.map { .time($0) } ?? .none),
            ("connected_ms", .number(Int(r.connectedMs))), ("spoken_ms", .number(Int(r.spokenMs))),
            ("turns", .number(r.turns)), ("passes", .number(r.passes)), ("hands_raised", .number(r.handsRaised)),
            ("drops", .number(r.drops)), ("resumes", .number(r.resumes)),
            ("private_words_sent", .number(r.privateSent)),
        ]
    }

    private static let sample = AttendanceRecord(group: "", session: 0, sub: "", name: "", role: "", firstJoin: 0)

    static func csvField(_ s: String) -> String {
        var v = s
        if let first = v.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { v = "'" + v }
        guard v.unicodeScalars.contains(where: { "\",\n\r".unicodeScalars.contains($0) }) else { return v }
        var quoted = "\""
        for c in v.unicodeScalars {
            if c == "\"" { quoted += "\"\"" } else { quoted.unicodeScalars.append(c) }
        }
        return quoted + "\""
    }
}
