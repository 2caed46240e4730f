import CircleJSON
import CircleServer
import Foundation
import Testing

/// A whole group session over real WebSockets: a facilitator and four members.
@Suite struct RoomSessionTests {
    private func type(_ m: JSON) -> String { m["type"]?.stringValue ?? "" }

    @Test func aWholeSession() throws {
        let env = try roomServer()
        let room = "evening-group"
        let f = Participant(env, room: room, sub: "fac", name: "Dr Facilitator Name", role: .facilitator)
        #expect(f.waitFor(type: "welcome")?["role"]?.stringValue == "facilitator")
        var members: [Participant] = []
        for i in 1...4 {
            let m = Participant(env, room: room, sub: "m\(i)", name: "Member Name \(i)", role: .member)
            #expect(m.waitFor(type: "welcome")?["participant"]?.stringValue == "m\(i)")
            members.append(m)
        }
        let (m1, m2, m3, m4) = (members[0], members[1], members[2], members[3])
        // Everyone sees the last arrival.
        for p in [f, m1, m2, m3] {
            #expect(
                p.waitFor { self.type($0) == "participant_joined" && $0["participant"]?.stringValue == "m4" } != nil)
        }

        // Intro: a round in join order; m2 passes.
        #expect(m1.request("advance_round")?["code"]?.stringValue == "forbidden")
        #expect(f.request("advance_round").map(type) == "ack")
        func floor(_ who: String) -> Bool {
            f.waitFor { self.type($0) == "floor_given" && $0["speaker"]?.stringValue == who } != nil
        }
        #expect(floor("m1"))
        #expect(m1.request("end_turn").map(type) == "ack")
        #expect(floor("m2"))
        #expect(m2.request("pass").map(type) == "ack")
        #expect(floor("m3"))
        #expect(m3.request("end_turn").map(type) == "ack")
        #expect(floor("m4"))
        #expect(m4.request("end_turn").map(type) == "ack")

        // Sharing: raised hands, a paced turn that runs out and advances by itself.
        #expect(f.request("set_phase", [("phase", "sharing")]).map(type) == "ack")
        #expect(m2.request("raise_hand").map(type) == "ack")
        #expect(m3.request("raise_hand").map(type) == "ack")
        #expect(f.waitFor { self.type($0) == "queue_changed" && $0["queue"] == ["m2", "m3"] } != nil)
        #expect(f.request("set_pacing", [("turn_length_ms", 1500), ("nudge_before_ms", 1000), ("auto_advance", true)])
            .map(type) == "ack")
        #expect(f.request("give_floor").map(type) == "ack")
        #expect(floor("m2"))
        #expect(m2.waitFor(type: "turn_nudge")?["speaker"]?.stringValue == "m2")
        #expect(m2.waitFor(type: "turn_time_up") != nil)
        #expect(f.waitFor { self.type($0) == "turn_ended" && $0["speaker"]?.stringValue == "m2" }?["reason"]?
            .stringValue == "time_up")
        #expect(floor("m3"))  // auto-advance
        // Others see who speaks, not a countdown.
        #expect(!m1.messages.contains { type($0) == "turn_nudge" || type($0) == "turn_time_up" })
        #expect(f.request("set_pacing", [("nudge_before_ms", 30000), ("auto_advance", false)]).map(type) == "ack")
        #expect(f.request("end_turn").map(type) == "ack")

        // A silence that ends by itself and returns to sharing; every mic is asked to mute.
        #expect(f.request("start_silence", [("silence_ms", 1000)]).map(type) == "ack")
        #expect(f.waitFor { self.type($0) == "phase_changed" && $0["phase"]?.stringValue == "silence" } != nil)
        #expect(m1.waitFor(type: "mute_request")?["reason"]?.stringValue == "silence")
        #expect(f.waitFor(timeoutMilliseconds: 4000) {
            self.type($0) == "phase_changed" && $0["phase"]?.stringValue == "sharing"
        } != nil)

        // A mute the member can't undo.
        #expect(f.request("mute", [("participant", "m1")]).map(type) == "ack")
        #expect(m1.waitFor(type: "mute_request")?["reason"]?.stringValue == "facilitator")
        #expect(m1.request("media", [("mic", true)])?["code"]?.stringValue == "muted")

        // A dropped connection resumes without losing its queue place.
        #expect(m4.request("raise_hand").map(type) == "ack")
        let lastSeen = UInt64(m4.events.last?["seq"]?.intValue ?? 0)
        m4.client.tcp?.close()
        let m4Reconnecting = f.waitFor {
            self.type($0) == "connection_changed" && $0["participant"]?.stringValue == "m4"
        }
        #expect(m4Reconnecting?["connection"]?.stringValue == "reconnecting")
        let m4b = Participant(env, room: room, sub: "m4", name: "Member Name 4", role: .member, since: lastSeen)
        let welcome = m4b.waitFor(type: "welcome")
        #expect(welcome?["resumed"] == true)
        let m4Connected = f.waitFor { self.type($0) == "connection_changed" && $0["participant"]?.stringValue == "m4" }
        #expect(m4Connected?["connection"]?.stringValue == "connected")
        #expect(f.request("give_floor").map(type) == "ack")
        #expect(floor("m4"))

        // Offer, answer and candidates between two members, through the relay, payloads verbatim.
        let offer: JSON = ["kind": "offer", "sdp": "v=0\r\no=- 4611 2 IN IP4 127.0.0.1\r\ns=-\r\n"]
        #expect(m1.request("signal", [("to", "m2"), ("payload", offer)]).map(type) == "ack")
        let got = m2.waitFor(type: "signal")
        #expect(got?["from"]?.stringValue == "m1")
        #expect(got?["payload"] == offer)
        #expect(
            m2.request("signal", [("to", "m1"), ("payload", ["kind": "answer", "sdp": "v=0\r\n"])]).map(type) == "ack")
        #expect(m1.waitFor(type: "signal")?["payload"]?["kind"]?.stringValue == "answer")
        for i in 0..<5 {
            _ = m1.send([
                ("type", "signal"), ("to", "m2"),
                ("payload", ["candidate": .string("candidate:\(i) 1 udp 2122260223 127.0.0.1 5000\(i) typ host")]),
            ])
        }
        for i in 0..<5 {
            #expect(
                m2.waitFor(type: "signal")?["payload"]?["candidate"]?.stringValue?.hasPrefix("candidate:\(i) ") == true
            )
        }
        #expect(!m3.messages.contains { type($0) == "signal" })

        // Reactions reach the room; a private word reaches the facilitators only; stats are the facilitators'.
        #expect(m3.request("reaction", [("kind", "heart")]).map(type) == "ack")
        #expect(m1.waitFor(type: "reaction")?["from"]?.stringValue == "m3")
        #expect(m2.request("private_word", [("text", "I need a moment")]).map(type) == "ack")
        #expect(f.waitFor(type: "private_word")?["from"]?.stringValue == "m2")
        env.run(milliseconds: 50)
        #expect(![m1, m3, m4b].contains { $0.messages.contains { self.type($0) == "private_word" } })
        #expect(m1.request("request_stats")?["code"]?.stringValue == "forbidden")
        #expect(f.request("request_stats").map(type) == "ack")
        let stats = f.waitFor(type: "stats")
        let m2Stats = stats?["stats"]?.arrayValue?.first { $0["participant"]?.stringValue == "m2" }
        #expect((m2Stats?["spoken_ms"]?.intValue ?? 0) >= 1000)  // the paced turn ran 1.5 s
        #expect(m2Stats?["passes"]?.intValue == 1)

        // Close, then end: everyone gets the end event and a normal close.
        #expect(f.request("set_phase", [("phase", "close")]).map(type) == "ack")
        #expect(f.request("end_session").map(type) == "ack")
        let everyone = [f, m1, m2, m3, m4b]
        for p in everyone {
            #expect(p.waitFor(type: "session_ended") != nil)
        }
        #expect(env.run { everyone.allSatisfy { $0.client.tcpClosed } })
        for p in everyone { #expect(p.client.serverClose?.code == 1000) }

        // One order: every client saw the same event for every sequence number it saw.
        var bySeq: [Int: JSON] = [:]
        for p in everyone + [m4] {
            var last = 0
            for e in p.events {
                let seq = e["seq"]!.intValue!
                #expect(seq > last, "events arrive in increasing seq order")
                last = seq
                if let seen = bySeq[seq] {
                    #expect(seen == e, "seq \(seq) differs between clients")
                } else {
                    bySeq[seq] = e
                }
            }
        }
        // The members who stayed connected saw every event from their join to the end, without a gap.
        for p in [f, m1, m2, m3] {
            let seqs = p.events.compactMap { $0["seq"]?.intValue }
            #expect(seqs == Array(seqs.first!...seqs.last!))
        }

        // Every message the server sent matches its schema.
        try validateAgainstSchemas(everyone + [m4])

        // The logs name ids and kinds, never names, tokens or payloads.
        let log = env.logs.text
        #expect(log.contains("room=evening-group"))
        for secret in ["Facilitator Name", "Member Name", "v=0", "candidate:", "access_token=", "eyJ"] {
            #expect(!log.contains(secret), "the log contains \(secret)")
        }
        env.shutDown()
    }
}

/// Runs Tests/schema/validate.py over every message the participants received.
func validateAgainstSchemas(_ participants: [Participant], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let lines = participants.flatMap { $0.client.texts }.joined(separator: "\n") + "\n"
    let file = FileManager.default.temporaryDirectory.appendingPathComponent(
        "circle-messages-\(UUID().uuidString).jsonl")
    try lines.write(to: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: file) }
    var root = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { root.deleteLastPathComponent() }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [
        "python3", root.appendingPathComponent("Tests/schema/validate.py").path, "--direction", "server", file.path,
    ]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    #expect(p.terminationStatus == 0, "schema validation failed:\n\(text)", sourceLocation: sourceLocation)
}
