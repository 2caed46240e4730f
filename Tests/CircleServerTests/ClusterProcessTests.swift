import CircleAuth
import CircleHTTP
import CircleJSON
import CircleRoom
import CircleTestSupport
import Foundation
import Testing

/// Real `circle serve --redis` nodes on one real redis-server: relays to a room's owner, a takeover after SIGKILL,
/// a SIGTERM hand-over with nothing lost, and an owner paused past its lease fenced out (Docs/SCALING.md).
@Suite(.serialized) struct ClusterProcessTests {
    static let leaseMs = 1500

    final class Cluster {
        let redis: RedisServer
        let secretPath: URL
        var nodes: [CircleProcess] = []
        init(nodes count: Int) throws {
            redis = try RedisServer()
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("circle-cluster-\(UUID())")
            try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
            secretPath = base.appendingPathComponent("secret")
            try Data(testSecret).write(to: secretPath)
            for _ in 0..<count { nodes.append(try node()) }
        }

        func node() throws -> CircleProcess {
            let node = try CircleProcess(arguments: [
                "--secret-file", secretPath.path, "--redis", redis.url, "--node-address", "127.0.0.1:0",
                "--lease-ms", String(ClusterProcessTests.leaseMs), "--drain-seconds", "2",
            ])
            try #require(node.port > 0, "no port in the log: \(node.startupLog)")
            // Ready once Redis is connected.
            let deadline = Date().addingTimeInterval(TestTime.seconds(5))
            while Date() < deadline {
                let probe = TestClient.raw(node, Array("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
                _ = node.run { probe.tcpClosed }
                if probe.status == 200 { break }
                usleep(50_000)
            }
            return node
        }

        /// Every client runs on the first node's loop (the test's thread); `port` picks the node it connects to.
        var driver: CircleProcess { nodes[0] }

        deinit {
            for node in nodes where node.process.isRunning {
                kill(node.process.processIdentifier, SIGCONT)
                kill(node.process.processIdentifier, SIGKILL)
            }
        }
    }

    /// One participant of room "g", connected to one node, with what it has seen.
    final class Member {
        let sub: String
        let role: Role
        let cluster: Cluster
        var client: TestClient
        var lastSeq: UInt64 = 0
        var epoch: UInt64 = 0
        var requests = 0

        init(_ cluster: Cluster, _ sub: String, role: Role = .member, port: Int) {
            self.sub = sub
            self.role = role
            self.cluster = cluster
            client = Self.connect(cluster, sub: sub, role: role, port: port, query: "")
            absorb()
        }

        static func connect(_ cluster: Cluster, sub: String, role: Role, port: Int, query: String,
                            seconds: UInt64 = 5) -> TestClient {
            let now = Int64(time(nil))
            let claims = TokenClaims(sub: sub, name: "Name \(sub)", room: "g", role: role, exp: now + 600, iat: now)
            let token = TokenMinter.mint(claims, secret: testSecret)
            let client = TestClient()
            client.connectWebSocket(cluster.driver, port: port, path: "/rooms/g?access_token=\(token)\(query)")
            _ = cluster.driver.run(timeoutMilliseconds: seconds * 1000) {
                client.texts.contains { $0.contains(#""type":"welcome""#) } || client.tcpClosed
            }
            return client
        }

        var messages: [JSON] { client.texts.map { (try? JSON.parse($0)) ?? .null } }
        var welcome: JSON? { messages.last { $0["type"]?.stringValue == "welcome" } }

        @discardableResult func absorb() -> UInt64 {
            for m in messages {
                if let seq = m["seq"]?.intValue { lastSeq = max(lastSeq, UInt64(seq)) }
                if m["type"]?.stringValue == "welcome", let e = m["epoch"]?.intValue { epoch = UInt64(e) }
            }
            return lastSeq
        }

        @discardableResult func request(_ type: String, _ fields: String = "") -> Bool {
            requests += 1
            let id = "q\(requests)"
            client.sendText(#"{"type":"\#(type)","id":"\#(id)"\#(fields.isEmpty ? "" : "," + fields)}"#)
            let needle = #""id":"\#(id)""#
            let done = cluster.driver.run { self.client.texts.contains { $0.contains(needle) } }
            absorb()
            return done && client.texts.contains { $0.contains(needle) && $0.contains(#""type":"ack""#) }
        }

        /// Connects again (to `port`), resuming with since and epoch; the seconds it took to get a welcome.
        @discardableResult func resume(port: Int, seconds: UInt64 = 10) -> Double {
            let start = Date()
            client = Self.connect(cluster, sub: sub, role: role, port: port,
                                  query: "&since=\(lastSeq)&epoch=\(epoch)", seconds: seconds)
            let took = Date().timeIntervalSince(start)
            absorb()
            return took
        }

        func sees(_ needle: String) -> Bool { client.texts.contains { $0.contains(needle) } }
    }

    private func names(_ welcome: JSON?) -> Set<String> {
        let people = welcome?["snapshot"]?["participants"]?.arrayValue ?? []
        return Set(people.compactMap { $0["participant"]?.stringValue })
    }

    @Test func aClientOnANodeThatDoesNotOwnTheRoomIsRelayedToTheOwnerAndSharesTheRoom() throws {
        let cluster = try Cluster(nodes: 2)
        let (a, b) = (cluster.nodes[0], cluster.nodes[1])
        let f = Member(cluster, "f", role: .facilitator, port: a.port)
        try #require(f.welcome != nil, "no welcome on the first node")
        let m = Member(cluster, "m", port: b.port)
        let welcome = try #require(m.welcome, "no welcome through the relay")
        #expect(names(welcome).contains("f"), "the owner's room, with the facilitator in it")
        #expect(m.epoch == f.epoch, "one room, one epoch")
        #expect(m.request("raise_hand"))
        #expect(cluster.driver.run { f.sees(#""queue":["m"]"#) })
        #expect(f.request("give_floor", #""participant":"m""#))
        #expect(cluster.driver.run { m.sees(#""type":"floor_given""#) })
        // Round trip through the relay, against the same on the owner.
        func roundTrip(_ member: Member, _ n: Int) -> Double {
            let start = Date()
            for i in 0..<n { _ = member.request("media", #""mic":\#(i % 2 == 0),"camera":false"#) }
            return Date().timeIntervalSince(start) / Double(n) * 1000
        }
        let direct = roundTrip(f, 50), relayed = roundTrip(m, 50)
        print("cluster: request round trip direct \(direct) ms, relayed \(relayed) ms")
        // A join another node relayed is never relayed again (no loops between nodes): it gets 1012 and comes back.
        let now = Int64(time(nil))
        let token = TokenMinter.mint(TokenClaims(sub: "x", name: "Name x", room: "g", role: .member, exp: now + 600,
                                                 iat: now), secret: testSecret)
        let hop = TestClient()
        hop.connectWebSocket(cluster.driver, port: b.port, path: "/rooms/g?access_token=\(token)",
                             headers: [HTTPHeader(name: "Circle-Relayed-By", value: "another-node")])
        #expect(cluster.driver.run { hop.tcpClosed })
        #expect(hop.serverClose?.code == 1012)
        #expect(!hop.texts.contains { $0.contains(#""type":"welcome""#) })
        // A relaying node that drains closes its relayed clients (1012); the owner's own clients stay.
        kill(b.process.processIdentifier, SIGTERM)
        #expect(b.waitForExit(seconds: 10) == 0)
        #expect(cluster.driver.run { m.client.tcpClosed })
        #expect(f.client.tcpClosed == false, "the owner's clients stay when a relaying node goes")
    }

    @Test func afterTheOwnerIsKilledItsClientsResumeOnAnotherNodeWithAFreshSnapshot() throws {
        let cluster = try Cluster(nodes: 3)
        let (a, b) = (cluster.nodes[1], cluster.nodes[2])
        let f = Member(cluster, "f", role: .facilitator, port: a.port)
        let m = Member(cluster, "m", port: a.port)
        let r = Member(cluster, "r", port: b.port)  // relayed through the third node
        #expect(names(r.welcome).isSuperset(of: ["f", "m"]))
        #expect(f.request("set_phase", #""phase":"sharing""#))
        #expect(m.request("raise_hand"))
        cluster.driver.run(milliseconds: 300)  // past the save interval: in Redis
        for x in [f, m, r] { x.absorb() }
        let oldEpoch = f.epoch
        kill(a.process.processIdentifier, SIGKILL)
        _ = a.waitForExit(seconds: 5)
        #expect(cluster.driver.run { r.client.tcpClosed }, "the relay closes when the owner dies")
        #expect(r.client.serverClose?.code == 1012)
        var took: [Double] = []
        for x in [f, m, r] {
            took.append(x.resume(port: b.port))
            let welcome = try #require(x.welcome, "\(x.sub): no welcome after the takeover")
            #expect(welcome["epoch"]?.intValue.map(UInt64.init) != oldEpoch, "\(x.sub): a new epoch")
            #expect(welcome["snapshot"]?["phase"]?.stringValue == "sharing", "\(x.sub): a fresh snapshot")
            #expect(names(welcome) == ["f", "m", "r"])
        }
        let times = took.map { String(format: "%.2f", $0) }
        print("cluster: resumed after SIGKILL in \(times) s (lease \(Self.leaseMs) ms)")
        #expect(took[0] < Double(Self.leaseMs) / 1000 + 4)
        #expect(m.request("lower_hand"))
        #expect(cluster.driver.run { f.sees(#""queue":[]"#) })
    }

    @Test func aDrainingOwnerHandsItsRoomOverAndClientsResumeWithNothingLost() throws {
        let cluster = try Cluster(nodes: 3)
        let (a, b) = (cluster.nodes[1], cluster.nodes[2])
        let f = Member(cluster, "f", role: .facilitator, port: a.port)
        let m = Member(cluster, "m", port: a.port)
        #expect(f.request("set_phase", #""phase":"sharing""#))
        #expect(m.request("raise_hand"))
        #expect(f.request("give_floor", #""participant":"m""#))
        for x in [f, m] { x.absorb() }
        let epoch = f.epoch
        kill(a.process.processIdentifier, SIGTERM)
        #expect(cluster.driver.run { f.client.tcpClosed && m.client.tcpClosed })
        #expect(f.client.serverClose?.code == 1012)
        #expect(a.waitForExit(seconds: 10) == 0)
        for x in [f, m] {
            let took = x.resume(port: b.port, seconds: 3)
            let welcome = try #require(x.welcome, "\(x.sub): no welcome after the hand-over")
            #expect(welcome["resumed"]?.boolValue == true, "\(x.sub)")
            #expect(welcome["epoch"]?.intValue.map(UInt64.init) == epoch, "\(x.sub): same epoch")
            #expect(welcome["replay"]?.arrayValue != nil, "\(x.sub): a replay, not a snapshot")
            #expect(took < 2, "\(x.sub): no wait for a lease to lapse (\(took) s)")
        }
        #expect(f.request("give_floor", #""participant":"f""#))
    }

    @Test func aRoomWhoseOnlyVisitorWaitedAndLeftIsFreeForAnyNode() throws {
        let cluster = try Cluster(nodes: 3)
        let (a, b) = (cluster.nodes[1], cluster.nodes[2])
        let m = Member(cluster, "m", port: a.port)
        #expect(m.sees(#""waiting_for_facilitator""#), "a member before the facilitator waits")
        _ = m.client.client.startClose()
        #expect(cluster.driver.run { m.client.tcpClosed })
        cluster.driver.run(milliseconds: 300)
        let f = Member(cluster, "f", role: .facilitator, port: b.port)
        #expect(f.welcome != nil)
        kill(b.process.processIdentifier, SIGTERM)
        #expect(b.waitForExit(seconds: 10) == 0)
        #expect(b.log().contains("room opened"), "the facilitator's node took the free room, no relay to the other")
    }

    @Test func readyzAnswers503WhileRedisIsUnreachable() throws {
        let cluster = try Cluster(nodes: 1)
        let node = cluster.nodes[0]
        func readyz() -> Int? {
            let probe = TestClient.raw(node, Array("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            _ = node.run { probe.tcpClosed }
            return probe.status
        }
        #expect(readyz() == 200)
        cluster.redis.kill()
        var status = readyz()
        for _ in 0..<40 where status != 503 {
            node.run(milliseconds: 100)
            status = readyz()
        }
        #expect(status == 503, "Redis gone: not ready")
        try cluster.redis.start()
        for _ in 0..<60 where status != 200 {
            node.run(milliseconds: 100)
            status = readyz()
        }
        #expect(status == 200, "Redis back: ready again")
    }

    @Test func anOwnerStalledPastItsLeaseWritesItsLastChangesAndItsClientsResumeWithEverything() throws {
        let cluster = try Cluster(nodes: 3)
        let (a, b) = (cluster.nodes[1], cluster.nodes[2])
        let f = Member(cluster, "f", role: .facilitator, port: a.port)
        let m = Member(cluster, "m", port: a.port)
        #expect(f.request("set_phase", #""phase":"sharing""#))
        cluster.driver.run(milliseconds: 300)
        // A new seat and a change, then the owner stops before its next save (saves go every 100 ms) for longer
        // than its lease; nobody claims the room meanwhile. It finds its lease lapsed when it runs again.
        let late = Member(cluster, "late", port: a.port)
        #expect(late.welcome != nil)
        #expect(m.request("raise_hand"))
        let pid = a.process.processIdentifier
        kill(pid, SIGSTOP)
        usleep(UInt32(Self.leaseMs + 500) * 1000)
        kill(pid, SIGCONT)
        #expect(cluster.driver.run { m.client.tcpClosed && f.client.tcpClosed && late.client.tcpClosed })
        #expect(m.client.serverClose?.code == 1012)
        // They resume (on the same node, and through another) into a room with their seats and the raised hand.
        for (x, port) in [(f, a.port), (m, b.port), (late, a.port)] {
            x.resume(port: port)
            let welcome = try #require(x.welcome, "\(x.sub): no welcome")
            #expect(welcome["resumed"]?.boolValue == true, "\(x.sub): the seat is there")
            #expect(names(welcome) == ["f", "m", "late"], "\(x.sub)")
            let queue = welcome["snapshot"]?["queue"]?.arrayValue?.compactMap(\.stringValue)
            #expect(queue == ["m"], "\(x.sub): the change before the stall is there")
        }
        #expect(m.request("lower_hand"))
        kill(pid, SIGTERM)
        #expect(a.waitForExit(seconds: 10) == 0)
    }

    @Test func aSeatTakenJustBeforeItsOwnerStallsIsInTheRoomAnotherNodeTakesOver() throws {
        let cluster = try Cluster(nodes: 3)
        let (a, b) = (cluster.nodes[1], cluster.nodes[2])
        let f = Member(cluster, "f", role: .facilitator, port: a.port)
        cluster.driver.run(milliseconds: 300)
        // The seat is in Redis before its welcome leaves (not at the next save, 100 ms later): the owner stops
        // right after the welcome, past its lease, and another node takes the room from what Redis holds.
        let late = Member(cluster, "late", port: a.port)
        #expect(late.welcome != nil)
        let pid = a.process.processIdentifier
        kill(pid, SIGSTOP)
        cluster.driver.run(milliseconds: UInt64(Self.leaseMs) + 500)
        let n = Member(cluster, "n", port: b.port)
        #expect(names(n.welcome).isSuperset(of: ["f", "late"]), "the new owner restored the late seat")
        kill(pid, SIGCONT)
        #expect(cluster.driver.run { late.client.tcpClosed && f.client.tcpClosed })
        for x in [late, f] {
            x.resume(port: b.port)
            #expect(x.welcome?["resumed"]?.boolValue == true, "\(x.sub): the seat is there")
        }
        kill(pid, SIGTERM)
        #expect(a.waitForExit(seconds: 10) == 0)
    }

    @Test func anOwnerPausedPastItsLeaseIsFencedOutAndNoClientSeesItsStaleEffects() throws {
        let cluster = try Cluster(nodes: 3)
        let (a, b) = (cluster.nodes[1], cluster.nodes[2])
        let f = Member(cluster, "f", role: .facilitator, port: a.port)
        let m = Member(cluster, "m", port: a.port)
        #expect(f.request("set_phase", #""phase":"sharing""#))
        cluster.driver.run(milliseconds: 300)
        let pid = a.process.processIdentifier
        kill(pid, SIGSTOP)
        // While it is stopped: m's request waits in the old owner's socket; the lease lapses; a new member joins
        // through another node, which takes the room over.
        m.client.sendText(#"{"type":"raise_hand","id":"stale"}"#)
        cluster.driver.run(milliseconds: UInt64(Self.leaseMs) + 500)
        let n = Member(cluster, "n", port: b.port)
        let welcome = try #require(n.welcome, "no welcome on the new owner")
        #expect(names(welcome).contains("f"))
        kill(pid, SIGCONT)
        #expect(cluster.driver.run { m.client.tcpClosed && f.client.tcpClosed }, "the old owner closes its clients")
        #expect(m.client.serverClose?.code == 1012)
        #expect(!m.sees(#""id":"stale""#), "no answer to the stale request")
        #expect(!f.sees(#""queue":["m"]"#), "no stale broadcast")
        cluster.driver.run(milliseconds: 300)
        #expect(!n.sees(#""queue":["m"]"#))
        // The clients come back to the new owner, and the room goes on there.
        m.resume(port: b.port)
        #expect(m.welcome != nil)
        #expect(m.request("raise_hand"))
        #expect(cluster.driver.run { n.sees(#""queue":["m"]"#) })
        kill(pid, SIGTERM)
        #expect(a.waitForExit(seconds: 10) == 0)
        #expect(a.log().contains("room lost to another node"))
    }
}
