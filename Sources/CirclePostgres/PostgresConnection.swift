import CLibPQ
import CircleStore
#if canImport(Glibc)
import Glibc
#endif

/// One libpq connection with the blocking API, used by one thread at a time (the writer's).
final class PostgresConnection {
    private var connection: OpaquePointer?
    /// The URL without its password: what errors name.
    let name: String

    /// Connects (blocking, at most `timeoutSeconds`); throws `.io` naming the server without its password.
    init(url: PostgresURL, timeoutSeconds: Int) throws(StoreError) {
        name = url.redacted
        // Defaults first: a parameter in the URL itself (`?connect_timeout=…`) overrides them.
        let settings: [(String, String)] = [
            ("connect_timeout", String(max(2, timeoutSeconds))), ("application_name", "circle"),
            ("keepalives", "1"), ("keepalives_idle", "10"), ("keepalives_interval", "5"), ("keepalives_count", "3"),
            ("tcp_user_timeout", "30000"), ("client_encoding", "UTF8"), ("dbname", url.text),
        ]
        let keywords = settings.map { strdup($0.0) }, values = settings.map { strdup($0.1) }
        defer { (keywords + values).forEach { free($0) } }
        let keywordPointers = keywords.map { UnsafePointer($0) } + [nil]
        let valuePointers = values.map { UnsafePointer($0) } + [nil]
        connection = PQconnectdbParams(keywordPointers, valuePointers, 1)
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let error = StoreError.io(path: name, code: -1, message: url.scrub(Self.message(connection)))
            PQfinish(connection)
            self.connection = nil
            throw error
        }
        // Notices (`relation already exists, skipping`) would go to stderr; the store reports through errors.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
    }

    deinit { close() }

    func close() {
        if let connection { PQfinish(connection) }
        connection = nil
    }

    /// False once the server is gone (noticed on the last command).
    var isUp: Bool { connection.map { PQstatus($0) == CONNECTION_OK } ?? false }

    /// Runs one statement with text parameters; returns its rows (text, NULL as nil) and the rows it changed.
    @discardableResult
    func execute(_ sql: String, _ parameters: [String?] = []) throws(StoreError) -> PostgresResult {
        guard let connection else { throw .io(path: name, code: -1, message: "not connected") }
        let copies = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) }
        let result = PQexecParams(connection, sql, Int32(pointers.count), nil, pointers, nil, nil, 0)
        defer { PQclear(result) }
        let status = result.map { PQresultStatus($0) } ?? PGRES_FATAL_ERROR
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            throw .io(path: name, code: Self.code(result), message: Self.message(connection))
        }
        var rows: [[String?]] = []
        let count = PQntuples(result), columns = PQnfields(result)
        rows.reserveCapacity(Int(count))
        for row in 0..<count {
            rows.append((0..<columns).map { column in
                PQgetisnull(result, row, column) != 0 ? nil : String(cString: PQgetvalue(result, row, column))
            })
        }
        let changed = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresResult(rows: rows, changed: changed)
    }

    /// The error's SQLSTATE as a number for `StoreError.io`'s code (base 36 of its five characters; -1: none).
    private static func code(_ result: OpaquePointer?) -> Int32 {
        guard let result, let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))) else { return -1 }
        return Int32(String(cString: state), radix: 36) ?? -1
    }

    private static func message(_ connection: OpaquePointer?) -> String {
        guard let connection, let text = PQerrorMessage(connection) else { return "no connection" }
        // libpq's messages end with a newline and may span lines; one line for a log.
        return String(cString: text).split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}

/// A statement's rows (text values; NULL as nil) and the number of rows it inserted, updated or deleted.
struct PostgresResult {
    var rows: [[String?]]
    var changed: Int
}
