import CircleAuth
import CircleHTTP
import CircleJSON
import CircleLoop
import CircleRoom
import CircleWebSocket
import Foundation
import Testing

/// A hostile member with a valid token, against the real `circle` binary: each attack ends in its documented error or
/// close code, and the server (and everyone else on it) goes on.
@Suite(.serialized) struct HostileClientProcessTests {
    /// `circle serve` with the test secret (and whatever else `extra` says), on a free port. Any participant opens
    /// a room's session, so a hostile member is in a room at once (waiting members: GroupSessionTests).
    private func serve(_ extra: [String] = []) throws -> CircleProcess {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("circle-secret-\(UUID().uuidString)")
        try Data(testSecret).write(to: path)
        let server = try CircleProcess(arguments: ["--secret-file", path.path, "--session-openers", "anyone"] + extra)
        try #require(server.port > 0, "no port in the log")
        return server
    }

    private func join(_ server: CircleProcess, room: String = "r", sub: String, role: Role = .member,
                      issuedAt: Int64? = nil, expiresIn: Int64 = 600) -> TestClient {
        let now = Int64(time(nil))
        let claims = TokenClaims(
            sub: sub, name: "N", room: room, role: role, exp: now + expiresIn, iat: issuedAt ?? now)
        let token = TokenMinter.mint(claims, secret: testSecret)
        let client = TestClient.webSocket(server, path: "/rooms/\(room)?access_token=\(token)")
        server.run { client.texts.contains { $0.contains(#""type":"welcome""#) } || client.tcpClosed }
        return client
    }

    private func messages(_ client: TestClient) -> [JSON] { client.texts.map { (try? JSON.parse($0)) ?? .null } }

    private func residentKiB(_ server: CircleProcess) -> Int {
        let status =
            (try? String(contentsOfFile: "/proc/\(server.process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    // MARK: 1. Pongs

    @Test func pingsFromAPeerThatNeverReadsStayWithinTheOutboundCap() throws {
        let server = try serve()
        let peer = try BlockingSocket(port: server.port, receiveBuffer: 4096)
        let now = Int64(time(nil))
        let token = TokenMinter.mint(
            TokenClaims(sub: "p", name: "N", room: "r", role: .member, exp: now + 600, iat: now),
            secret: testSecret)
        try peer.send(
            WebSocketHandshake.clientRequest(
                host: "127.0.0.1", path: "/rooms/r?access_token=\(token)",
                key: WebSocketHandshake.makeKey()))
        let before = residentKiB(server)
        // 25 MB of 125-byte pings, never reading a pong: without a bound, the server grows by more than that.
        var batch: [UInt8] = []
        for _ in 0..<1000 {
            WebSocketFrame.encode(opcode: .ping, payload: [UInt8](repeating: 0x61, count: 125), fin: true,
                                  maskKey: (1, 2, 3, 4), into: &batch)
        }
        var sent = 0
        while sent < 200, (try? peer.send(batch)) != nil { sent += 1 }
        server.run(milliseconds: 500)
        let grown = residentKiB(server) - before
        #expect(grown < 8 * 1024, "the server grew by \(grown) KiB for \(sent)k unread pongs")
        // Everyone else is still served.
        let other = join(server, sub: "other")
        #expect(other.upgraded && !other.tcpClosed)
    }

    // MARK: 2. Binary

    @Test func aBinaryMessageClosesWith1003AndDrawsNoReplies() throws {
        let server = try serve()
        let member = join(server, sub: "m")
        for _ in 0..<1000 { member.send(.binary, [1]) }
        #expect(server.run { member.serverClose != nil || member.tcpClosed })
        #expect(member.serverClose?.code == WebSocketCloseCode.unsupportedData)
        #expect(!messages(member).contains { $0["type"]?.stringValue == "error" })
    }

    // MARK: 3. Fragments

    @Test func aMessageInTinyFragmentsCostsLinearTime() throws {
        let server = try serve(["--conformance-echo"])
        let client = TestClient.webSocket(server)
        try #require(client.upgraded)
        // 1 MiB in 16-byte frames: reassembly that copied the whole message per frame took seconds of CPU.
        let size = 1 << 20
        var stream: [UInt8] = []
        stream.reserveCapacity(size * 2)
        for start in stride(from: 0, to: size, by: 16) {
            WebSocketFrame.encode(opcode: start == 0 ? .binary : .continuation,
                                  payload: [UInt8](repeating: UInt8(truncatingIfNeeded: start >> 4), count: 16),
                                  fin: start + 16 == size, maskKey: (9, 8, 7, 6), into: &stream)
        }
        // Three in a row: once a first large buffer was freed, malloc serves the next ones from the heap, where
        // growing by one frame's worth at a time copies the message so far for every frame.
        var spent: [Int] = []
        for round in 1...3 {
            let ticks = server.cpuTicks()
            client.sendRaw(stream)
            #expect(server.run(timeoutMilliseconds: 60_000) { client.messages.count == round || client.tcpClosed })
            #expect(client.messages.last.map { if case .binary(let b) = $0 { b.count } else { 0 } } == size)
            spent.append(server.cpuTicks() - ticks)
        }
        #expect(spent.max()! < 60, "server CPU ticks (10 ms) per fragmented 1 MiB message: \(spent)")
    }

    @Test func fragmentsCountAgainstTheRateAndAFragmentFloodIsClosed() throws {
        let server = try serve()
        let member = join(server, sub: "m")
        let message = Array(#"{"type":"raise_hand","id":"h1"}"#.utf8)
        // 400 frames of one message, all at once: far past a burst of 40, so the flood rule closes it.
        member.sendFrame(.text, [message[0]], fin: false)
        for byte in message.dropFirst().dropLast() { member.sendFrame(.continuation, [byte], fin: false) }
        for _ in 0..<400 { member.sendFrame(.continuation, [0x20], fin: false) }
        member.sendFrame(.continuation, [message.last!])
        #expect(server.run { member.serverClose != nil || member.tcpClosed })
        #expect(member.serverClose?.code == WebSocketCloseCode.policyViolation)
    }

    // MARK: 4 and 5. Over the rate: replies keep their id; a flood is closed

    @Test func everyCommandOverTheRateIsAnsweredWithItsID() throws {
        let server = try serve()
        let member = join(server, sub: "m")
        let ids = (0..<60).map { "c\($0)" }
        for id in ids { member.sendText(#"{"type":"media","mic":true,"id":"\#(id)"}"#) }
        #expect(server.run { messages(member).filter { $0["id"] != nil }.count >= ids.count })
        let replies = messages(member).filter { $0["id"] != nil }
        #expect(Set(replies.compactMap { $0["id"]?.stringValue }) == Set(ids))
        #expect(replies.contains { $0["code"]?.stringValue == "rate_limited" })
        #expect(!member.tcpClosed)
    }

    /// Sends `perTick` messages every 10 ms (at most `seconds`) until the server closes; returns its close code and
    /// how long it took.
    private func flood(_ server: CircleProcess, perTick: Int, seconds: Double) -> (code: UInt16?, after: Double) {
        let member = join(server, sub: "flood-\(perTick)")
        let start = Date()
        while Date().timeIntervalSince(start) < seconds && member.serverClose == nil && !member.tcpClosed {
            for _ in 0..<perTick { member.sendText(#"{"type":"media","camera":true}"#) }
            server.run(milliseconds: 10)
        }
        server.run(timeoutMilliseconds: 1000) { member.serverClose != nil || member.tcpClosed }
        return (member.serverClose?.code, Date().timeIntervalSince(start))
    }

    @Test(arguments: [1, 5, 50])
    func aFloodIsClosedWith1008(perTick: Int) throws {
        // 100, 500 and 5,000 messages a second against a rate of 20 (bursts of 40).
        let server = try serve()
        let (code, after) = flood(server, perTick: perTick, seconds: 8)
        #expect(code == WebSocketCloseCode.policyViolation, "at \(perTick * 100) msg/s")
        #expect(after < 5, "closed after \(after) s at \(perTick * 100) msg/s")
    }

    @Test func aClientJustOverTheRateIsSlowedButNotClosed() throws {
        let server = try serve()
        let member = join(server, sub: "eager")
        let start = Date()
        var sent = 0
        // About 30 a second for 8 s: once the burst is spent, about 10 refusals a second, under 100 in 10 s.
        while Date().timeIntervalSince(start) < 8 {
            member.sendText(#"{"type":"media","camera":true}"#)
            sent += 1
            server.run(milliseconds: 30)
        }
        server.run(milliseconds: 200)
        #expect(member.serverClose == nil && !member.tcpClosed)
        #expect(messages(member).contains { $0["code"]?.stringValue == "rate_limited" })
    }

    // MARK: 6. An ended session stays ended

    @Test func aTokenIssuedBeforeTheEndCannotReopenTheRoom() throws {
        let server = try serve()
        let start = Int64(time(nil))
        let facilitator = join(server, sub: "f", role: .facilitator, issuedAt: start)
        let member = join(server, sub: "m", issuedAt: start)
        facilitator.sendText(#"{"type":"end_session","id":"e"}"#)
        #expect(server.run { member.tcpClosed && facilitator.tcpClosed })
        for sub in ["m", "f"] {
            let again = join(server, sub: sub, role: sub == "f" ? .facilitator : .member, issuedAt: start)
            #expect(server.run { again.serverClose != nil || again.tcpClosed })
            #expect(again.serverClose?.code == 4004, "\(sub) rejoining an ended session")
            #expect(messages(again).contains { $0["code"]?.stringValue == "session_ended" })
            #expect(!messages(again).contains { $0["type"]?.stringValue == "welcome" })
        }
        // A link issued after the end opens the group's next session.
        let next = join(server, sub: "f", role: .facilitator, issuedAt: Int64(time(nil)) + 1)
        #expect(messages(next).first?["type"]?.stringValue == "welcome")
        #expect(!next.tcpClosed)
    }

    // MARK: 7. Log injection

    @Test func controlCharactersInTokensAreRefusedAndTextLogsQuoteValues() throws {
        let server = try serve(["--log-format", "text"])
        for sub in ["a\r\nlevel=critical forged", "a\u{1B}[2J", "a\u{2028}b"] {
            let now = Int64(time(nil))
            let token = TokenMinter.mint(TokenClaims(sub: sub, name: "N", room: "r", role: .member, exp: now + 60),
                                         secret: testSecret)
            let client = TestClient.webSocket(server, path: "/rooms/r?access_token=\(token)")
            #expect(client.status == 401)
            #expect(client.rawResponseText.contains("token claim invalid: sub"))
        }
        let quoted = join(server, sub: #"q" x=y"#)
        #expect(quoted.upgraded)
        kill(server.process.processIdentifier, SIGTERM)
        _ = server.waitForExit(seconds: 10)
        let log = server.log()
        #expect(!log.contains("forged"))
        let joinLine = log.split(separator: "\n").first { $0.contains(" join ") && $0.contains("participant=") }
        #expect(joinLine?.contains(#"participant="q\" x=y""#) == true, "\(joinLine ?? "no join line")")
    }

    // MARK: 8. HTTP framing and absolute-form

    @Test func ambiguousFramingIs400AndAbsoluteFormIsServed() throws {
        let server = try serve()
        func status(_ request: String) -> Int? {
            let client = TestClient.raw(server, Array(request.utf8))
            server.run { client.tcpClosed }
            return Int(client.rawResponseText.split(separator: " ").dropFirst().first ?? "")
        }
        #expect(status("GET /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") == 400)
        #expect(status("GET /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n")
                == 400)
        #expect(status("GET http://127.0.0.1/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") == 200)
    }

    // MARK: 9. A signal to someone reconnecting

    @Test func aSignalToAMemberInTheirGraceIsReconnecting() throws {
        let server = try serve()
        let a = join(server, sub: "a")
        let b = join(server, sub: "b")
        b.tcp?.close()  // dropped without a close frame: b's seat is kept for the grace period
        #expect(server.run { messages(a).contains { $0["type"]?.stringValue == "connection_changed" } })
        a.sendText(#"{"type":"signal","id":"s1","to":"b","payload":{"sdp":"v=0"}}"#)
        #expect(server.run { messages(a).contains { $0["id"]?.stringValue == "s1" } })
        #expect(messages(a).first { $0["id"]?.stringValue == "s1" }?["code"]?.stringValue == "reconnecting")
        a.sendText(#"{"type":"signal","id":"s2","to":"nobody","payload":{"sdp":"v=0"}}"#)
        #expect(server.run { messages(a).contains { $0["id"]?.stringValue == "s2" } })
        #expect(messages(a).first { $0["id"]?.stringValue == "s2" }?["code"]?.stringValue == "not_found")
    }

    // MARK: 10. Token limits, and refused tokens cannot fill the log

    @Test func aTokenLivingPastTheLimitIsRefused() throws {
        let server = try serve(["--max-token-ttl", "3600"])
        let long = join(server, sub: "m", expiresIn: 3600 + 120)
        #expect(long.status == 401)
        #expect(long.rawResponseText.contains("token claim invalid: exp"))
        #expect(join(server, sub: "m", expiresIn: 3500).upgraded)
    }

    @Test func refusedTokensAreLoggedAtMostTenASecond() throws {
        let server = try serve()
        for _ in 0..<200 {
            let client = TestClient.raw(
                server, Array("GET /rooms/r?access_token=x.y.z HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
            server.run { client.tcpClosed }
        }
        server.run(milliseconds: 1100)
        _ = join(server, sub: "bad", expiresIn: -10)  // one more refusal, in a later second: it reports the count
        kill(server.process.processIdentifier, SIGTERM)
        _ = server.waitForExit(seconds: 10)
        let lines = server.log().split(separator: "\n")
        let logged = lines.filter { $0.contains("join refused") }.count
        let unlogged = lines.compactMap { line -> Int? in
            guard line.contains("join refusals not logged"), let r = line.range(of: "count=") else { return nil }
            return Int(line[r.upperBound...].prefix { $0.isNumber })
        }.reduce(0, +)
        #expect(logged <= 30, "\(logged) refusal lines")
        #expect(logged + unlogged == 201)
    }
}

/// A blocking TCP socket that the test writes to and never reads: a peer that ignores everything it is sent.
final class BlockingSocket {
    private let fd: Int32

    init(port: Int, receiveBuffer: Int32) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var size = receiveBuffer
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    /// Sends every byte, or throws when the peer stops taking them for 5 s.
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw POSIXError(.ETIMEDOUT) }
            offset += n
        }
    }

    deinit { close(fd) }
}

/// What people say, their names and their tokens never reach the log.
@Suite(.serialized) struct LogPrivacyProcessTests {
    @Test func aWholeSessionLogsNoNamesWordsPayloadsOrTokens() throws {
        let format = "text"  // the format a forged line would hide in; JSON escapes every value
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("circle-secret-\(UUID().uuidString)")
        try Data(testSecret).write(to: path)
        let server = try CircleProcess(arguments: ["--secret-file", path.path, "--log-format", format,
                                                   "--log-level", "trace"])
        try #require(server.port > 0)
        let now = Int64(time(nil))
        var tokens: [String] = []
        func join(_ sub: String, _ name: String, _ role: Role) -> TestClient {
            let token = TokenMinter.mint(TokenClaims(sub: sub, name: name, room: "g", role: role, exp: now + 600,
                                                     iat: now), secret: testSecret)
            tokens.append(token)
            let client = TestClient.webSocket(server, path: "/rooms/g?access_token=\(token)")
            server.run { client.texts.contains { $0.contains("welcome") } }
            return client
        }
        let f = join("f1", "Dr Zelda Quimby", .facilitator)
        let m = join("m1", "Xavier Pumpernickel", .member)
        m.sendText(#"{"type":"private_word","id":"p","text":"I feel overwhelmed today"}"#)
        m.sendText(#"{"type":"signal","id":"s","to":"f1","payload":{"sdp":"v=0 o=secretsdp 1 IN IP4 10.9.8.7"}}"#)
        m.sendText(#"{"type":"raise_hand","id":"h"}"#)
        #expect(server.run { m.texts.filter { $0.contains(#""id":"#) }.count >= 3 })
        f.sendText(#"{"type":"end_session","id":"e"}"#)
        server.run { f.tcpClosed && m.tcpClosed }
        kill(server.process.processIdentifier, SIGTERM)
        _ = server.waitForExit(seconds: 10)
        let log = server.log()
        #expect(log.contains("f1") && log.contains("m1"), "ids are logged")
        for secret in ["Zelda", "Quimby", "Pumpernickel", "overwhelmed", "secretsdp", "10.9.8.7"] + tokens {
            #expect(!log.contains(secret), "\(format) log holds \(secret.prefix(12))")
        }
    }
}
