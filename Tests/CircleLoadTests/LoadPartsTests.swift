@testable import CircleLoad
import CircleLoop
import CircleProtocol
import CircleRoom
import Testing

@Suite struct HistogramTests {
    @Test func quantilesAreWithinTheBucketError() {
        var h = LatencyHistogram()
        for v in 1...10_000 { h.record(nanoseconds: UInt64(v) * 1000) }  // 1 µs … 10 ms
        for (q, exact) in [(0.5, 5_000_000.0), (0.9, 9_000_000.0), (0.99, 9_900_000.0)] {
            let got = Double(h.quantile(q))
            #expect(abs(got - exact) / exact < 0.02, "q\(q): \(got) vs \(exact)")
        }
        #expect(h.max == 10_000_000)
        #expect(h.min == 1000)
        #expect(h.count == 10_000)
    }

    @Test func emptyHistogramAnswersZero() {
        let h = LatencyHistogram()
        #expect(h.quantile(0.99) == 0)
        #expect(h.buckets.isEmpty)
    }

    @Test func smallValuesAreExactAndHugeValuesDoNotTrap() {
        var h = LatencyHistogram()
        h.record(nanoseconds: 7)
        h.record(nanoseconds: .max)
        #expect(h.quantile(0.1) == 7)
        #expect(h.quantile(1) == .max)
    }
}

@Suite struct OutgoingTests {
    /// What the server relays of a probe: its sender, then the payload as the client wrote it.
    static func relayed(_ message: Outgoing, at now: UInt64) throws -> ServerMessage? {
        let request = try WireProtocol.decode(message.encoded(now: now)).get()
        guard case .signal(_, let payload) = request.command else { return nil }
        return ServerMessage(WireProtocol.encode(.signal(from: "m1", payload: payload)))
    }

    @Test func probeIsASignalTheServerDecodesWithItsStamp() throws {
        let m = Outgoing.probe(to: "m2", .offer, [.string("sdp", "v=0\r\n"), .int("n", 3)], request: 9)
        let request = try WireProtocol.decode(m.encoded(now: 42)).get()
        #expect(request.id == "c9")
        guard case .signal(.participant("m2"), let payload) = request.command else {
            Issue.record("not a signal to m2: \(request)")
            return
        }
        let text = String(decoding: payload, as: UTF8.self)
        #expect(text == #"{"t":1000000000000000042,"k":"o","sdp":"v=0\r\n","n":3}"#)
        let relayed = try #require(try Self.relayed(m, at: 42))
        #expect(relayed.isType("signal"))
        #expect(relayed.from.map { String(decoding: $0, as: UTF8.self) } == "m1")
        #expect(relayed.probe?.sentAt == 42 && relayed.probe?.letter == .offer)
    }

    @Test func commandCarriesItsRequestID() throws {
        let m = Outgoing.command(.giveFloor(to: nil), request: 7)
        let decoded = try WireProtocol.decode(m.encoded(now: 0)).get()
        #expect(decoded == ClientRequest(id: "c7", command: .giveFloor(to: nil)))
        let reaction = Outgoing.command(.reaction(.wave), request: 0)
        #expect(try WireProtocol.decode(reaction.encoded(now: 0)).get() == ClientRequest(command: .reaction(.wave)))
    }

    @Test func fanoutMessageIsThePayloadSize() {
        for bytes in [100, 1000, 4096] {
            let m = Outgoing.probe(to: nil, .answer, LoadRunner.fanoutPadding(bytes: bytes), request: 123_456)
            #expect(m.encoded(now: EventLoop.hrtime).count == bytes)
        }
    }
}

@Suite struct ConfigurationTests {
    @Test func validDefaultsWithASecret() {
        var c = LoadConfiguration()
        c.secret = Array(repeating: 1, count: 16)
        #expect(c.validationError() == nil)
    }

    @Test func eachBadSettingIsRefused() {
        var base = LoadConfiguration()
        base.secret = Array(repeating: 1, count: 16)
        let cases: [(inout LoadConfiguration) -> Void] = [
            { $0.rooms = 0 }, { $0.members = 0 }, { $0.churn = 1.5 }, { $0.rampSeconds = 40 },
            { $0.durationSeconds = 0 }, { $0.port = 0 }, { $0.secret = [] }, { $0.fanoutWindow = 0 },
            { $0.fanoutPayloadBytes = 10 }, { $0.clientRate = 0 }, { $0.pace = 0 }, { $0.pace = 101 },
        ]
        for change in cases {
            var c = base
            change(&c)
            #expect(c.validationError() != nil)
        }
    }

    @Test func defaultRampIs500JoinsASecondWithinBounds() {
        #expect(LoadConfiguration.defaultRamp(clients: 10_000, duration: 60) == 20)  // 1000 rooms of 10
        #expect(LoadConfiguration.defaultRamp(clients: 100, duration: 30) == 5)  // at least 5 s
        #expect(LoadConfiguration.defaultRamp(clients: 10_000, duration: 30) == 10)  // at most a third of the run
        var c = LoadConfiguration()
        c.secret = Array(repeating: 1, count: 16)
        c.rampSeconds = LoadConfiguration.defaultRamp(clients: 50_000, duration: 3)
        c.durationSeconds = 3
        #expect(c.validationError() == nil, "the default ramp always fits the run")
    }

    @Test func roomsKeepTheirOwnScheduleNotALockstep() {
        let (lag, tempo) = LoadRunner.roomSchedules(1000)
        #expect(lag.count == 1000 && tempo.count == 1000)
        #expect(lag.allSatisfy { (0..<LoadRunner.maxRoomLag).contains($0) })
        #expect(tempo.allSatisfy { (0.8...1.2).contains($0) })
        // Spread, not bunched: every tenth of the lag range and of the tempo range holds rooms.
        for tenth in 0..<10 {
            let lo = Double(tenth) / 10, hi = Double(tenth + 1) / 10
            #expect(lag.filter { (lo..<hi).contains($0 / LoadRunner.maxRoomLag) }.count > 50)
            #expect(tempo.filter { (lo..<hi).contains(($0 - 0.8) / 0.4) }.count > 50)
        }
        let again = LoadRunner.roomSchedules(1000)
        #expect(again.lag == lag && again.tempo == tempo, "reproducible")
    }

    @Test func paceShortensEveryMembersWaits() throws {
        let loop = try EventLoop()
        defer { _ = loop.close() }
        for pace in [1.0, 5.0] {
            var c = LoadConfiguration()
            c.secret = Array(repeating: 1, count: 16)
            c.pace = pace
            let runner = try LoadRunner(loop: loop, configuration: c)
            let client = LoadClient(runner: runner, index: 0, room: 0, seat: 1, token: "t",
                                    pacer: Pacer(ratePerSecond: 1, burst: 1, now: 0))
            for _ in 0..<200 {
                let wait = Double(runner.activity(client, 10, 30)) / 1e9
                #expect(wait >= 10 / pace && wait <= 30 / pace, "pace \(pace): \(wait) s")
            }
        }
    }

    @Test func histogramQuantileIsTheUpperBoundOfItsBucket() {
        let text = """
            # TYPE circle_loop_lag_seconds histogram
            circle_loop_lag_seconds_bucket{le="0.001"} 90
            circle_loop_lag_seconds_bucket{le="0.0025"} 98
            circle_loop_lag_seconds_bucket{le="0.01"} 99
            circle_loop_lag_seconds_bucket{le="0.1"} 100
            circle_loop_lag_seconds_bucket{le="+Inf"} 100
            circle_loop_lag_seconds_sum 0.3
            circle_loop_lag_seconds_count 100
            circle_event_latency_seconds_bucket{le="0.5"} 7
            """
        #expect(prometheusHistogramQuantile(0.5, of: "circle_loop_lag_seconds", in: text) == 0.001)
        #expect(prometheusHistogramQuantile(0.98, of: "circle_loop_lag_seconds", in: text) == 0.0025)
        #expect(prometheusHistogramQuantile(0.99, of: "circle_loop_lag_seconds", in: text) == 0.01)
        #expect(prometheusHistogramQuantile(1.0, of: "circle_loop_lag_seconds", in: text) == 0.1)
        #expect(prometheusHistogramQuantile(0.99, of: "circle_missing_seconds", in: text) == nil)
        let beyond = "circle_x_bucket{le=\"1\"} 1\ncircle_x_bucket{le=\"+Inf\"} 10\n"
        #expect(prometheusHistogramQuantile(0.99, of: "circle_x", in: beyond) == .infinity)
    }

    @Test func pacerHoldsToItsRate() {
        var p = Pacer(ratePerSecond: 10, burst: 2, now: 0)
        let taken = [p.take(now: 0), p.take(now: 0), p.take(now: 0), p.take(now: 50_000_000), p.take(now: 100_000_000)]
        #expect(taken == [true, true, false, false, true])
    }
}

@Suite struct ServerMessageTests {
    @Test func readsTheMembersAnEventNeeds() {
        let text = Array(#"{"type":"queue_changed","seq":42,"queue":["m1","m\u0032"],"queue_policy":"fifo"}"#.utf8)
        let message = ServerMessage(text)
        #expect(message?.type == "queue_changed")
        #expect(message?.seq == 42)
        #expect(message?.event.queue == ["m1", "m2"])
        #expect(message?.event.participant == nil)
        let joined = ServerMessage(Array(#"{"type":"participant_joined","seq":1,"participant":"m3","name":"x"}"#.utf8))
        #expect(joined?.event.participant == "m3")
        let error = ServerMessage(Array(#"{"type":"error","id":"c7","code":"invalid","message":"m"}"#.utf8))
        #expect(error?.code == "invalid" && error?.request == 7 && error?.seq == nil)
    }

    @Test func membersAreReadInAnyOrder() throws {
        let ack = try #require(ServerMessage(Array(#"{"id":"c12","type":"ack"}"#.utf8)))
        #expect(ack.isType("ack") && !ack.isType("signal") && ack.request == 12)
        let signal = try #require(ServerMessage(Array(
            #"{"payload":{"k":"a","x":[1],"t":1000000000000000005},"from":"f","type":"signal"}"#.utf8)))
        #expect(signal.isType("signal") && signal.probe?.sentAt == 5 && signal.probe?.letter == .answer)
        #expect(signal.from.map { String(decoding: $0, as: UTF8.self) } == "f")
        let foreign = try #require(ServerMessage(Array(#"{"type":"signal","from":"f","payload":{"sdp":"x"}}"#.utf8)))
        #expect(foreign.probe == nil)
        let reaction = try #require(ServerMessage(Array(#"{"kind":"nod","from":"m2","type":"reaction"}"#.utf8)))
        #expect(reaction.isType("reaction") && reaction.from.map { Array($0) } == Array("m2".utf8))
    }

    @Test func refusesWhatTheTreeParserRefuses() {
        let refused = [#"{"type":"x","type":"y"}"#, #"{"type":"x""#, "[1]", #"{"type":"x"} x"#,
                       #"{"type":"\uD800"}"#, ""]
        for text in refused {
            #expect(ServerMessage(Array(text.utf8)) == nil, "\(text)")
        }
        #expect(ServerMessage(Array(#"{"seq":1}"#.utf8))?.type == nil)
    }
}
