import Glibc
import CircleAuth
import CircleCrypto
import CircleHTTP
import CircleJSON
import CircleRoom
import CircleRooms
import CircleLoop
import CircleServer
import CircleStore
import Testing

let testSecret = Array("a test secret of at least 32 bytes!".utf8)

/// A server with the room service on a free port.
func roomServer(_ configure: (inout RoomServiceConfiguration) -> Void = { _ in },
                server serverConfigure: (inout ServerConfiguration) -> Void = { _ in }) throws -> TestServer {
    try TestServer(serverConfigure) { server in
        var config = RoomServiceConfiguration(secret: testSecret)
        configure(&config)
        return RoomService(server: server, configuration: config)
    }
}

func token(room: String, sub: String, name: String, role: Role, ttl: Int64 = 600,
           secret: [UInt8] = testSecret) -> String {
    let now = Int64(time(nil))
    return TokenMinter.mint(
        TokenClaims(sub: sub, name: name, room: room, role: role, exp: now + ttl, nbf: nil, iat: now),
        secret: secret)
}

/// A room participant: a WebSocket client that parses every message as JSON.
final class Participant {
    let client: TestClient
    let sub: String
    let env: TestServer
    private var consumed = 0
    private var nextID = 0

    convenience init(_ env: TestServer, room: String, sub: String, name: String, role: Role, since: UInt64? = nil) {
        self.init(env, room: room, sub: sub, token: token(room: room, sub: sub, name: name, role: role), since: since)
    }

    init(_ env: TestServer, room: String, sub: String, token: String, since: UInt64? = nil) {
        self.env = env
        self.sub = sub
        var path = "/rooms/\(room)?access_token=\(token)"
        if let since { path += "&since=\(since)" }
        client = TestClient.webSocket(env, path: path)
    }

    /// Every message received, parsed.
    var messages: [JSON] { client.texts.map { (try? JSON.parse($0)) ?? .null } }

    /// The sequenced events received so far, in order.
    var events: [JSON] { messages.filter { $0["seq"] != nil && $0["type"]?.stringValue != "welcome" } }

    func send(_ object: [(String, JSON)]) -> String {
        nextID += 1
        let id = "\(sub)-\(nextID)"
        var members = object
        members.append(("id", .string(id)))
        client.sendText(String(decoding: JSON.object(JSONObject(members)).serialized(), as: UTF8.self))
        return id
    }

    /// Sends a command and waits for its ack or error; returns that reply.
    @discardableResult
    func request(
        _ type: String, _ fields: [(String, JSON)] = [], sourceLocation: SourceLocation = #_sourceLocation
    ) -> JSON? {
        let id = send([("type", .string(type))] + fields)
        var reply: JSON?
        let ok = env.run {
            reply = messages.last {
                ($0["type"]?.stringValue == "ack" || $0["type"]?.stringValue == "error") && $0["id"]?.stringValue == id
            }
            return reply != nil
        }
        #expect(ok, "no reply to \(type)", sourceLocation: sourceLocation)
        return reply
    }

    /// Waits for a message matching `predicate` that arrived after the last one waited for.
    @discardableResult
    func waitFor(timeoutMilliseconds: UInt64 = 5000, sourceLocation: SourceLocation = #_sourceLocation,
                 _ predicate: (JSON) -> Bool) -> JSON? {
        var found: JSON?
        let ok = env.run(timeoutMilliseconds: timeoutMilliseconds) {
            let all = messages
            if let i = all[consumed...].firstIndex(where: predicate) {
                found = all[i]
                consumed = i + 1
                return true
            }
            return false
        }
        #expect(ok, "message not received", sourceLocation: sourceLocation)
        return found
    }

    func waitFor(
        type: String, timeoutMilliseconds: UInt64 = 5000, sourceLocation: SourceLocation = #_sourceLocation
    ) -> JSON? {
        // A welcome is the joined one: one that says the session has not opened yet is passed over.
        waitFor(timeoutMilliseconds: timeoutMilliseconds, sourceLocation: sourceLocation) {
            $0["type"]?.stringValue == type && (type != "welcome" || $0["state"] == nil)
        }
    }
}

/// A room server whose records (sessions, attendance) are kept in a SQLite store in `folder` (and its rooms too,
/// with `rooms`), the store's completions drained on the loop. `shutDown()` closes the store and the server.
final class RecordsServer {
    let env: TestServer
    let store: SQLiteStore
    let wakeup: AsyncWakeup
    let service: RoomService

    init(folder: String, rooms: Bool = false) throws {
        var store: SQLiteStore?
        var wakeup: AsyncWakeup?
        var service: RoomService?
        env = try TestServer({ _ in }) { server in
            let w = AsyncWakeup(loop: server.loop) { store?.drainCompletions() }
            wakeup = w
            let signaller = w.signaller
            store = try? SQLiteStore(directory: folder) { signaller.signal() }
            let s = RoomService(server: server, configuration: RoomServiceConfiguration(secret: testSecret))
            s.records = store
            if rooms, let store { try? s.useStore(store) { store.waitIdle() } }
            service = s
            return s
        }
        self.store = try #require(store)
        self.wakeup = try #require(wakeup)
        self.service = try #require(service)
    }

    func shutDown() {
        store.close()
        wakeup.close()
        env.shutDown()
    }
}
