@testable import CircleLoad
import CircleLoop
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

    @Test func mergeAddsCounts() {
        var a = LatencyHistogram(), b = LatencyHistogram()
        a.record(nanoseconds: 100)
        b.record(nanoseconds: 1_000_000)
        a.merge(b)
        #expect(a.count == 2)
        #expect(a.max == 1_000_000)
    }
}

@Suite struct OutgoingTests {
    @Test func stampHasNoLeadingZeroAndRoundTrips() {
        var m = Outgoing.signal(to: "m2", kind: "o", rest: "")
        Outgoing.stamp(&m.text, at: m.stampOffset, 42)
        let text = String(decoding: m.text, as: UTF8.self)
        #expect(text == #"{"type":"signal","to":"m2","payload":{"t":1000000000000000042,"k":"o"}}"#)
    }

    @Test func commandCarriesItsRequestID() {
        let m = Outgoing.command("raise_hand", request: 7)
        #expect(String(decoding: m.text, as: UTF8.self) == #"{"type":"raise_hand","id":"c7"}"#)
        #expect(m.request == 7)
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

@Suite struct ReceivedMessageTests {
    @Test func readsTheMembersAnEventNeeds() {
        let text = Array(#"{"type":"queue_changed","seq":42,"queue":["m1","m\u0032"],"policy":"fifo"}"#.utf8)
        let message = ReceivedMessage(text)
        #expect(message?.type == "queue_changed")
        #expect(message?.seq == 42)
        #expect(message?.event.queue == ["m1", "m2"])
        #expect(message?.event.participant == nil)
        let joined = ReceivedMessage(Array(#"{"type":"participant_joined","seq":1,"participant":"m3","name":"x"}"#.utf8))
        #expect(joined?.event.participant == "m3")
        let error = ReceivedMessage(Array(#"{"type":"error","id":"c7","code":"invalid","message":"m"}"#.utf8))
        #expect(error?.code == "invalid" && error?.id == "c7" && error?.seq == nil)
    }

    @Test func refusesWhatTheTreeParserRefuses() {
        for text in [#"{"type":"x","type":"y"}"#, #"{"type":"x""#, "[1]", #"{"type":"x"} x"#, #"{"type":"\uD800"}"#, ""] {
            #expect(ReceivedMessage(Array(text.utf8)) == nil, "\(text)")
        }
        #expect(ReceivedMessage(Array("[1]".utf8)) == nil)
        #expect(ReceivedMessage(Array(#"{"seq":1}"#.utf8))?.type == nil)
    }
}
