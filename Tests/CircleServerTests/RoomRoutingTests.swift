import CircleJSON
import CircleServer
import Testing

/// Recipients are found by slot (a connection id is a serial and a slot, and slots are reused): deliveries must reach
/// exactly the connections that are in the room now, once each, in the order they were sent.
@Suite struct RoomRoutingTests {
    private func signals(_ p: Participant, from sender: String) -> [String] {
        p.messages.filter { $0["type"]?.stringValue == "signal" && $0["from"]?.stringValue == sender }
            .compactMap { $0["payload"]?["n"]?.stringValue }
    }

    @Test func aSlotReusedByANewConnectionGetsOnlyWhatIsSentToIt() throws {
        let env = try roomServer()
        let room = "slots"
        let f = Participant(env, room: room, sub: "fac", name: "F", role: .facilitator)
        #expect(f.waitFor(type: "welcome") != nil)
        let m1 = Participant(env, room: room, sub: "m1", name: "M1", role: .member)
        #expect(m1.waitFor(type: "welcome") != nil)
        let m2 = Participant(env, room: room, sub: "m2", name: "M2", role: .member)
        #expect(m2.waitFor(type: "welcome") != nil)
        // m1 leaves for good; m3 takes the freed slot.
        #expect(m1.request("leave").map { $0["type"]?.stringValue } == "ack")
        #expect(
            f.waitFor { $0["type"]?.stringValue == "participant_left" && $0["participant"]?.stringValue == "m1" }
                != nil)
        m1.client.close()
        #expect(env.run { m1.client.tcpClosed })
        let m3 = Participant(env, room: room, sub: "m3", name: "M3", role: .member)
        #expect(m3.waitFor(type: "welcome") != nil)
        let m1Before = m1.messages.count

        _ = m2.send([("type", "signal"), ("to_all", true), ("payload", .object(JSONObject([("n", "all-1")])))])
        _ = m2.send([("type", "signal"), ("to", "m3"), ("payload", .object(JSONObject([("n", "to-m3")])))])
        _ = m2.send([("type", "signal"), ("to_all", true), ("payload", .object(JSONObject([("n", "all-2")])))])
        #expect(env.run { signals(f, from: "m2").count == 2 && signals(m3, from: "m2").count == 3 })
        env.run(milliseconds: 50)
        #expect(signals(f, from: "m2") == ["all-1", "all-2"])
        #expect(signals(m3, from: "m2") == ["all-1", "to-m3", "all-2"])
        #expect(signals(m2, from: "m2").isEmpty)
        #expect(m1.messages.count == m1Before, "a closed connection's slot still received")
        env.shutDown()
    }

    @Test func manySendersInOneBurstReachEveryoneOnceInOrder() throws {
        let env = try roomServer()
        let room = "burst"
        let f = Participant(env, room: room, sub: "fac", name: "F", role: .facilitator)
        #expect(f.waitFor(type: "welcome") != nil)
        var members: [Participant] = []
        for i in 0..<12 {
            let m = Participant(env, room: room, sub: "m\(i)", name: "M\(i)", role: .member)
            #expect(m.waitFor(type: "welcome") != nil)
            members.append(m)
        }
        // Every member sends 3 signals to all before the loop runs: the server reads them in as few turns as it can.
        for round in 0..<3 {
            for (i, m) in members.enumerated() {
                _ = m.send([("type", "signal"), ("to_all", true),
                            ("payload", .object(JSONObject([("n", .string("m\(i)-\(round)"))])))])
            }
        }
        let everyone = [f] + members
        #expect(
            env.run {
                everyone.allSatisfy { p in
                    members.indices.allSatisfy { i in p.sub == "m\(i)" || signals(p, from: "m\(i)").count == 3 }
                }
            })
        for p in everyone {
            for i in members.indices where p.sub != "m\(i)" {
                #expect(signals(p, from: "m\(i)") == ["m\(i)-0", "m\(i)-1", "m\(i)-2"])
            }
        }
        env.shutDown()
    }
}
