import CircleAuth
import CircleJSON
import CircleRoom
import CircleTestSupport
import Foundation
import Testing

/// Rooms across a restart of the real `circle` binary on one data directory: a SIGTERM deploy (close 1012, nothing
/// lost), a SIGKILL crash (what was on disk, a new epoch, fresh snapshots), timers less the downtime, and safety.
@Suite(.serialized) struct RestartProcessTests {
    final class Setup {
        let dataDir: URL
        let secretPath: URL
        init() throws {
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("circle-restart-\(UUID())")
            dataDir = base.appendingPathComponent("data")
            secretPath = base.appendingPathComponent("secret")
            try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
            try Data(testSecret).write(to: secretPath)
        }
        deinit { try? FileManager.default.removeItem(at: dataDir.deletingLastPathComponent()) }

        func serve(_ extra: [String] = []) throws -> CircleProcess {
            let server = try CircleProcess(arguments: [
                "--secret-file", secretPath.path, "--data-dir", dataDir.path, "--drain-seconds", "2",
            ] + extra)
            try #require(server.port > 0, "no port in the log: \(server.startupLog)")
            return server
        }
    }

    /// One participant's connection, with what it has seen.
    final class Member {
        let sub: String
        let role: Role
        var client: TestClient
        var lastSeq: UInt64 = 0
        var epoch: UInt64 = 0
        var requests = 0
        init(_ server: CircleProcess, sub: String, role: Role = .member, query: String = "") {
            self.sub = sub
            self.role = role
            client = Self.connect(server, sub: sub, role: role, query: query)
            _ = absorb()
        }

        static func connect(_ server: CircleProcess, sub: String, role: Role, query: String) -> TestClient {
            let now = Int64(time(nil))
            let claims = TokenClaims(sub: sub, name: "Name \(sub)", room: "g", role: role, exp: now + 600, iat: now)
            let token = TokenMinter.mint(claims, secret: testSecret)
            let client = TestClient.webSocket(server, path: "/rooms/g?access_token=\(token)\(query)")
            server.run { client.texts.contains { $0.contains(#""type":"welcome""#) } || client.tcpClosed }
            return client
        }

        var messages: [JSON] { client.texts.map { (try? JSON.parse($0)) ?? .null } }
        var welcome: JSON? { messages.last { $0["type"]?.stringValue == "welcome" } }

        /// Follows seq and epoch from what arrived.
        @discardableResult func absorb() -> UInt64 {
            for m in messages {
                if let seq = m["seq"]?.intValue { lastSeq = max(lastSeq, UInt64(seq)) }
                if m["type"]?.stringValue == "welcome", let e = m["epoch"]?.intValue { epoch = UInt64(e) }
            }
            return lastSeq
        }

        /// Sends a request and waits for its ack (or error).
        @discardableResult func request(_ server: CircleProcess, _ type: String, _ fields: String = "") -> Bool {
            requests += 1
            let id = "q\(requests)"
            client.sendText(#"{"type":"\#(type)","id":"\#(id)"\#(fields.isEmpty ? "" : "," + fields)}"#)
            let needle = #""id":"\#(id)""#
            let done = server.run { self.client.texts.contains { $0.contains(needle) } }
            absorb()
            return done && client.texts.contains { $0.contains(needle) && $0.contains(#""type":"ack""#) }
        }

        /// Connects again, resuming (`since`, `epoch`) or not.
        func reconnect(_ server: CircleProcess, resume: Bool = true, epoch: UInt64? = nil) {
            var query = ""
            if resume { query = "&since=\(lastSeq)&epoch=\(epoch ?? self.epoch)" }
            client = Self.connect(server, sub: sub, role: role, query: query)
            absorb()
        }
    }

    private func snapshot(_ member: Member) -> JSON? { member.welcome?["snapshot"] }

    private func strings(_ json: JSON?) -> [String] { json?.arrayValue?.compactMap(\.stringValue) ?? [] }

    @Test func aSigtermDeployClosesWith1012AndEveryClientResumesWithNothingLost() throws {
        let setup = try Setup()
        var server = try setup.serve()
        let f = Member(server, sub: "f", role: .facilitator)
        let joined = Date()
        let a = Member(server, sub: "a")
        let b = Member(server, sub: "b")
        let d = Member(server, sub: "d")
        _ = Member(server, sub: "x")
        let epoch = f.epoch
        #expect(epoch > 0)
        #expect(f.request(server, "set_pacing", #""turn_length_ms":300000,"nudge_before_ms":0,"auto_advance":false"#))
        #expect(f.request(server, "set_phase", #""phase":"sharing""#))
        #expect(a.request(server, "raise_hand"))
        #expect(b.request(server, "raise_hand"))
        #expect(f.request(server, "give_floor", #""participant":"a""#))
        #expect(f.request(server, "mute", #""participant":"d""#))
        #expect(f.request(server, "promote", #""participant":"b""#))
        #expect(f.request(server, "remove", #""participant":"x""#))
        #expect(f.request(server, "lock"))
        let members = [f, a, b, d]
        server.run(milliseconds: 100)
        for m in members { m.absorb() }
        let seq = f.lastSeq
        #expect(members.allSatisfy { $0.lastSeq == seq })

        server.run(milliseconds: 1_000)
        let before = Int(Date().timeIntervalSince(joined) * 1000)
        kill(server.process.processIdentifier, SIGTERM)
        #expect(server.run { members.allSatisfy { $0.client.tcpClosed } })
        for m in members { #expect(m.client.serverClose?.code == 1012, "\(m.sub)") }
        #expect(server.waitForExit(seconds: 10) == 0)

        server = try setup.serve()
        #expect(server.startupLog.contains("rooms restored rooms=1"))
        for m in members {
            m.reconnect(server)
            let welcome = try #require(m.welcome, "\(m.sub): no welcome")
            #expect(welcome["resumed"]?.boolValue == true)
            #expect(welcome["epoch"]?.intValue.map(UInt64.init) == epoch, "\(m.sub): same epoch")
            // A replay: only connections changed while the server was away; the same seq numbers go on.
            let replay = try #require(welcome["replay"]?.arrayValue, "\(m.sub): a replay, not a snapshot")
            #expect(replay.allSatisfy { $0["type"]?.stringValue == "connection_changed" })
            #expect(replay.first?["seq"]?.intValue == Int(seq) + 1 || replay.isEmpty)
        }
        // The whole state, as a takeover's snapshot shows it.
        f.reconnect(server, resume: false)
        let snap = try #require(snapshot(f))
        #expect(snap["phase"]?.stringValue == "sharing")
        #expect(snap["speaker"]?.stringValue == "a")
        #expect(strings(snap["queue"]) == ["b"])
        #expect(snap["locked"]?.boolValue == true)
        #expect(snap["pacing"]?["turn_length_ms"]?.intValue == 300_000)
        let people = snap["participants"]?.arrayValue ?? []
        #expect(people.compactMap { $0["participant"]?.stringValue } == ["f", "a", "b", "d"])
        #expect(people.first { $0["participant"]?.stringValue == "d" }?["muted"]?.boolValue == true)
        #expect(people.first { $0["participant"]?.stringValue == "b" }?["role"]?.stringValue == "cofacilitator")
        #expect(f.welcome?["time_left"]?["turn_ms"]?.intValue ?? 0 > 290_000)
        // Removed stays removed; locked stays locked.
        let back = Member(server, sub: "x")
        #expect(server.run { back.client.tcpClosed })
        #expect(back.client.serverClose?.code == 4001)
        let stranger = Member(server, sub: "s")
        #expect(server.run { stranger.client.tcpClosed })
        #expect(stranger.client.serverClose?.code == 4002)
        // The session went on across the deploy: one session, with the attendance kept from before it.
        #expect(f.request(server, "end_session"))
        #expect(server.run { f.client.tcpClosed })
        let report = try #require(attendance(server, group: "g"))
        let sessions = report["sessions"]?.arrayValue ?? []
        #expect(sessions.count == 1)
        #expect(sessions.first?["number"]?.intValue == 1 && sessions.first?["closed_at"]?.stringValue != nil)
        let rows = sessions.first?["participants"]?.arrayValue ?? []
        func row(_ sub: String) -> JSON? { rows.first { $0["participant"]?.stringValue == sub } }
        #expect(Set(rows.compactMap { $0["participant"]?.stringValue }) == ["f", "a", "b", "d", "x"])
        #expect(row("a")?["hands_raised"]?.intValue == 1 && row("b")?["hands_raised"]?.intValue == 1)
        #expect(row("x")?["last_leave"]?.stringValue != nil)
        // Time connected before the deploy is kept, and the time after it added.
        #expect(row("f")?["connected_ms"]?.intValue ?? 0 >= before - 50, "before the deploy: \(before) ms")
        #expect(row("a")?["resumes"]?.intValue == 1)
        kill(server.process.processIdentifier, SIGTERM)
        #expect(server.waitForExit(seconds: 10) == 0)
    }

    /// `GET /groups/{group}/attendance` with a facilitator's token: the report, parsed.
    private func attendance(_ server: CircleProcess, group: String) -> JSON? {
        let now = Int64(time(nil))
        let token = TokenMinter.mint(TokenClaims(sub: "f", name: "Name f", room: group, role: .facilitator,
                                                 exp: now + 600, iat: now), secret: testSecret)
        let request = "GET /groups/\(group)/attendance HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n\r\n"
        let probe = TestClient.raw(server, Array(request.utf8))
        _ = server.run { probe.tcpClosed }
        let text = probe.rawResponseText
        guard probe.status == 200, let split = text.range(of: "\r\n\r\n") else { return nil }
        return try? JSON.parse(String(text[split.upperBound...]))
    }

    @Test func aSigkillCrashRestoresWhatWasOnDiskWithANewEpochAndFreshSnapshots() throws {
        let setup = try Setup()
        var server = try setup.serve()
        let f = Member(server, sub: "f", role: .facilitator)
        let members = [f] + ["a", "b", "c"].map { Member(server, sub: $0) }
        server.run(milliseconds: 300)  // the room's first snapshot is on disk: what follows goes to its journal
        #expect(f.request(server, "set_phase", #""phase":"sharing""#))
        for m in members.dropFirst() { #expect(m.request(server, "raise_hand")) }
        #expect(f.request(server, "give_floor", #""participant":"a""#))
        // Each of these is a journal record after the room's snapshot, replayed through the engine at the restore.
        #expect(f.request(server, "mute", #""participant":"b""#))
        #expect(members[3].request(server, "media", #""camera":false"#))
        #expect(f.request(server, "set_pacing", #""turn_length_ms":120000,"nudge_before_ms":15000,"auto_advance":true"#))
        server.run(milliseconds: 400)  // past the save interval: on disk
        // In the middle of the session: a burst of changes, then the process dies at once.
        #expect(f.request(server, "move_in_queue", #""participant":"c","position":0"#))
        members[2].client.sendText(#"{"type":"lower_hand"}"#)
        kill(server.process.processIdentifier, SIGKILL)
        _ = server.waitForExit(seconds: 10)
        for m in members { m.absorb() }
        let oldEpoch = f.epoch

        server = try setup.serve()
        for m in members {
            m.reconnect(server)
            let welcome = try #require(m.welcome, "\(m.sub): no welcome")
            #expect(welcome["resumed"]?.boolValue == true)
            let epoch = welcome["epoch"]?.intValue.map(UInt64.init) ?? 0
            #expect(epoch != oldEpoch, "a crash restore changes the epoch")
            #expect(welcome["snapshot"] != nil, "\(m.sub): a fresh snapshot, never a silent gap")
        }
        // Every client's view equals the others': a takeover (no event) gives each the room at the same seq.
        for m in members { m.reconnect(server, resume: false) }
        let views = members.map { m -> String in
            let w = m.welcome
            return "\(w?["seq"]?.intValue ?? -1) \(w?["snapshot"].map { String(describing: $0) } ?? "none")"
        }
        #expect(Set(views).count == 1, "\(views)")
        let snap = try #require(snapshot(f))
        #expect(snap["phase"]?.stringValue == "sharing")
        #expect(snap["speaker"]?.stringValue == "a")
        #expect(strings(snap["queue"]).count == 2)
        let seats = snap["participants"]?.arrayValue ?? []
        #expect(seats.first { $0["participant"]?.stringValue == "b" }?["muted"]?.boolValue == true)
        #expect(seats.first { $0["participant"]?.stringValue == "c" }?["camera"]?.boolValue == false)
        #expect(snap["pacing"]?["turn_length_ms"]?.intValue == 120_000)
        #expect(snap["pacing"]?["auto_advance"]?.boolValue == true)
        kill(server.process.processIdentifier, SIGTERM)
        #expect(server.waitForExit(seconds: 10) == 0)
    }

    @Test func aRemovalAndALockAckedJustBeforeACrashHold() throws {
        let setup = try Setup()
        var server = try setup.serve()
        let f = Member(server, sub: "f", role: .facilitator)
        _ = Member(server, sub: "x")
        #expect(f.request(server, "remove", #""participant":"x""#))
        #expect(f.request(server, "lock"))
        kill(server.process.processIdentifier, SIGKILL)  // at once: no snapshot interval has passed
        _ = server.waitForExit(seconds: 10)

        server = try setup.serve()
        let x = Member(server, sub: "x")
        #expect(server.run { x.client.tcpClosed })
        #expect(x.client.serverClose?.code == 4001)
        let stranger = Member(server, sub: "s")
        #expect(server.run { stranger.client.tcpClosed })
        #expect(stranger.client.serverClose?.code == 4002)
        kill(server.process.processIdentifier, SIGTERM)
        #expect(server.waitForExit(seconds: 10) == 0)
    }

    @Test func aSilenceKeepsItsTimeLeftLessTheDowntime() throws {
        let setup = try Setup()
        var server = try setup.serve()
        let f = Member(server, sub: "f", role: .facilitator)
        // The silence started between `sent` and `acked`; the welcome's time left was taken between `reconnecting`
        // and `welcomed`. So it ran at least `reconnecting - acked` and at most `welcomed - sent`.
        let sent = Date()
        #expect(f.request(server, "start_silence", #""silence_ms":60000"#))
        let acked = Date()
        kill(server.process.processIdentifier, SIGTERM)
        #expect(server.waitForExit(seconds: 10) == 0)
        Thread.sleep(forTimeInterval: 2)  // downtime
        server = try setup.serve()
        let reconnecting = Date()
        f.reconnect(server, resume: false)
        let welcomed = Date()
        let left = try #require(f.welcome?["time_left"]?["silence_ms"]?.intValue)
        let atLeast = Int(reconnecting.timeIntervalSince(acked) * 1000)
        let atMost = Int(welcomed.timeIntervalSince(sent) * 1000)
        #expect(left <= 60_000 - atLeast + 10, "left \(left) ms, ran at least \(atLeast) ms")
        #expect(left >= 60_000 - atMost - 10, "left \(left) ms, ran at most \(atMost) ms")
        #expect(snapshot(f)?["phase"]?.stringValue == "silence")
        kill(server.process.processIdentifier, SIGTERM)
        #expect(server.waitForExit(seconds: 10) == 0)
    }

    @Test func aSecondProcessOnTheSameDirectoryRefusesToStart() throws {
        let setup = try Setup()
        let first = try setup.serve()
        let second = try CircleProcess(arguments: [
            "--secret-file", setup.secretPath.path, "--data-dir", setup.dataDir.path,
        ])
        let status = second.waitForExit(seconds: 10)
        #expect(status != nil && status != 0)
        #expect(second.log().contains("in use by another process"))
        #expect(first.process.isRunning)
        kill(first.process.processIdentifier, SIGTERM)
        #expect(first.waitForExit(seconds: 10) == 0)
    }

    /// `GET /readyz` on the server's port: its status.
    private func readyz(_ server: CircleProcess) -> Int? {
        let probe = TestClient.raw(server, Array("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        _ = server.run { probe.tcpClosed }
        return probe.status
    }

    @Test(.enabled(if: getuid() == 0, "needs root to mount a tmpfs"))
    func aFullDiskKeepsServingWithReadyz503UntilThereIsRoom() throws {
        let setup = try Setup()
        try FileManager.default.createDirectory(at: setup.dataDir, withIntermediateDirectories: true)
        let mount = try runProcess(URL(fileURLWithPath: "/bin/mount"),
                                   ["-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", setup.dataDir.path])
        try #require(mount.status == 0, "mount: \(mount.stderr)")
        defer { _ = try? runProcess(URL(fileURLWithPath: "/bin/umount"), [setup.dataDir.path]) }
        let server = try setup.serve()
        let f = Member(server, sub: "f", role: .facilitator)
        #expect(readyz(server) == 200)
        // Fill the disk.
        let filler = setup.dataDir.appendingPathComponent("filler")
        _ = FileManager.default.createFile(atPath: filler.path, contents: nil)
        let handle = try FileHandle(forWritingTo: filler)
        let block = Data(count: 4096)
        while (try? handle.write(contentsOf: block)) != nil {}
        try? handle.close()
        // Changes keep coming: the room goes on, the store cannot write them.
        var failing = false
        for i in 0..<100 where !failing {
            #expect(f.request(server, i % 2 == 0 ? "raise_hand" : "lower_hand"))
            server.run(milliseconds: 120)
            failing = readyz(server) == 503
        }
        #expect(failing, "readyz should answer 503 while the disk is full")
        #expect(server.process.isRunning)
        #expect(f.request(server, "raise_hand") || f.request(server, "lower_hand"))
        try FileManager.default.removeItem(at: filler)
        var healthy = false
        for _ in 0..<50 where !healthy {
            server.run(milliseconds: 200)
            healthy = readyz(server) == 200
        }
        #expect(healthy, "readyz should recover once there is room")
        kill(server.process.processIdentifier, SIGTERM)
        #expect(server.waitForExit(seconds: 10) == 0)
        #expect(server.log().contains("store failing"))
    }
}
