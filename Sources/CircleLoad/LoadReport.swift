import CircleJSON

/// What a spawned server used during the run.
public struct ServerUsage: Sendable, Equatable {
    /// Peak resident memory (`VmHWM`), KiB.
    public var peakRSSKiB: Int
    /// CPU time over wall time during the run, percent of one core.
    public var cpuPercent: Double
    /// The server's own loop lag over the run (`circle_loop_lag_seconds`, scraped from its `/metrics` at the end),
    /// p99 as the upper bound of its histogram bucket, in milliseconds; nil when it could not be read. High here
    /// means the server's loop was saturated; low with high latency means the generator or the machine was.
    public var loopLagP99Milliseconds: Double?

    /// A usage record.
    public init(peakRSSKiB: Int, cpuPercent: Double, loopLagP99Milliseconds: Double? = nil) {
        self.peakRSSKiB = peakRSSKiB
        self.cpuPercent = cpuPercent
        self.loopLagP99Milliseconds = loopLagP99Milliseconds
    }
}

/// A quantile from a Prometheus histogram in the text exposition format: the upper bound (`le`) of the first bucket
/// whose cumulative count reaches `q` of the total, or nil when the histogram is absent or empty.
public func prometheusHistogramQuantile(_ q: Double, of name: String, in text: String) -> Double? {
    var buckets: [(le: Double, count: Double)] = []
    let prefix = name + "_bucket{le=\""
    for line in text.split(separator: "\n") where line.hasPrefix(prefix) {
        let rest = line.dropFirst(prefix.count)
        guard let quote = rest.firstIndex(of: "\""), let space = rest.lastIndex(of: " ") else { continue }
        let bound = rest[..<quote] == "+Inf" ? Double.infinity : Double(rest[..<quote])
        guard let bound, let count = Double(rest[rest.index(after: space)...]) else { continue }
        buckets.append((bound, count))
    }
    buckets.sort { $0.le < $1.le }
    guard let total = buckets.last?.count, total > 0 else { return nil }
    return buckets.first { $0.count >= q * total }?.le
}

/// The result of a run: the machine-readable summary (one JSON object), a human summary, and a self-contained
/// HTML report (inline SVG: latency histogram, throughput and error timeline).
public struct LoadReport: Sendable {
    /// The settings of the run.
    public let configuration: LoadConfiguration
    /// What was measured.
    public let metrics: LoadMetrics
    /// Sends and measured deliveries per second over the steady window.
    public let sentPerSecond: Double
    public let deliveredPerSecond: Double
    /// The spawned server's usage, if the run started one.
    public var server: ServerUsage?
    /// This process's CPU over the run, percent of one core.
    public let loadCPUPercent: Double

    /// A report of `runner`'s run.
    public init(_ runner: LoadRunner, server: ServerUsage? = nil) {
        configuration = runner.configuration
        metrics = runner.metrics
        (sentPerSecond, deliveredPerSecond) = runner.steadyRates
        loadCPUPercent = runner.loadCPUPercent
        self.server = server
    }

    /// Whether the run stays within `maxErrors` errors.
    public func passes(maxErrors: Int) -> Bool { metrics.errorCount <= maxErrors }

    private static func ms(_ ns: UInt64) -> Double { (Double(ns) / 1e4).rounded() / 100 }

    /// The summary as one compact JSON object (the last line `circle load` prints).
    public var json: String {
        let m = metrics
        var w = JSONWriter(capacity: 1024)
        w.beginObject()
        w.key("scenario"); w.string(configuration.scenario.rawValue)
        w.key("rooms"); w.int(configuration.rooms)
        w.key("members"); w.int(configuration.members)
        w.key("clients"); w.int(configuration.clientCount)
        w.key("duration_s"); w.number(configuration.durationSeconds)
        w.key("connections"); w.int(m.joined)
        w.key("connect_failures"); w.int(m.connectFailures)
        w.key("resumes"); w.int(m.resumes)
        w.key("steps_redone"); w.int(m.stepsRedone)
        w.key("join_p50_ms"); w.number(Self.ms(m.joinLatency.quantile(0.5)))
        w.key("join_p99_ms"); w.number(Self.ms(m.joinLatency.quantile(0.99)))
        w.key("sent_per_s"); w.number(sentPerSecond.rounded())
        w.key("delivered_per_s"); w.number(deliveredPerSecond.rounded())
        w.key("sent_total"); w.int(Int(m.sent))
        w.key("received_total"); w.int(Int(m.received))
        w.key("measured_deliveries"); w.int(Int(m.latency.count))
        w.key("latency_p50_ms"); w.number(Self.ms(m.latency.quantile(0.5)))
        w.key("latency_p90_ms"); w.number(Self.ms(m.latency.quantile(0.9)))
        w.key("latency_p99_ms"); w.number(Self.ms(m.latency.quantile(0.99)))
        w.key("latency_p999_ms"); w.number(Self.ms(m.latency.quantile(0.999)))
        w.key("latency_max_ms"); w.number(Self.ms(m.latency.max))
        w.key("ack_p99_ms"); w.number(Self.ms(m.ackLatency.quantile(0.99)))
        w.key("error_total"); w.int(m.errorCount)
        w.key("races")
        w.beginObject()
        for (code, count) in m.races.sorted(by: { $0.key < $1.key }) { w.key(code); w.int(count) }
        w.endObject()
        w.key("errors")
        w.beginObject()
        for (code, count) in m.errors.sorted(by: { $0.key < $1.key }) { w.key(code); w.int(count) }
        w.endObject()
        if configuration.reconnect { writeOutages(&w) }
        w.key("load_cpu_pct"); w.number((loadCPUPercent * 10).rounded() / 10)
        if let server {
            w.key("server_peak_rss_kb"); w.int(server.peakRSSKiB)
            w.key("server_cpu_pct"); w.number((server.cpuPercent * 10).rounded() / 10)
            if let lag = server.loopLagP99Milliseconds, lag.isFinite { w.key("server_loop_lag_p99_ms"); w.number(lag) }
        }
        w.endObject()
        return String(decoding: w.bytes, as: UTF8.self)
    }

    private static func seconds(_ s: Double) -> Double { (s * 1000).rounded() / 1000 }

    /// Restart mode's members: how the outages ended and how long the resumes took.
    private func writeOutages(_ w: inout JSONWriter) {
        let o = metrics.outages
        let times = o.resumeSeconds
        func counts(_ key: StaticString, _ values: [String: Int]) {
            w.key(key)
            w.beginObject()
            for (code, count) in values.sorted(by: { $0.key < $1.key }) { w.key(code); w.int(count) }
            w.endObject()
        }
        w.key("resume_reference"); w.string(o.referenceAt != nil ? "file" : "close")
        counts("outages", o.began)
        w.key("resumed"); w.int(o.resumes.count)
        w.key("lost"); w.int(o.lost)
        w.key("resume_p50_s"); w.number(Self.seconds(OutageMetrics.quantile(0.5, of: times)))
        w.key("resume_p99_s"); w.number(Self.seconds(OutageMetrics.quantile(0.99, of: times)))
        w.key("resume_max_s"); w.number(Self.seconds(times.last ?? 0))
        w.key("replays"); w.int(o.resumes.filter(\.replay).count)
        w.key("snapshots"); w.int(o.resumes.filter { !$0.replay }.count)
        w.key("reconnect_attempts"); w.int(o.attempts)
        counts("reconnect_failures", o.failedAttempts)
        w.key("mirror_rooms"); w.int(o.mirrorRooms)
        w.key("mirror_failures"); w.int(o.mirrorFailures)
        w.key("mirror_unchecked_clients"); w.int(o.mirrorUnchecked)
    }

    /// A few lines for people.
    public var human: String {
        let m = metrics
        let c = configuration
        var lines: [String] = []
        lines.append("circle load: \(c.scenario.rawValue), \(c.rooms) rooms x (1 facilitator + \(c.members) members)"
            + " = \(c.clientCount) clients, \(c.durationSeconds) s")
        lines.append("  joined       \(m.joined)/\(c.clientCount), \(m.connectFailures) failed, \(m.resumes) resumes;"
            + " join p50 \(Self.ms(m.joinLatency.quantile(0.5))) ms, p99 \(Self.ms(m.joinLatency.quantile(0.99))) ms")
        lines.append("  throughput   \(Int(sentPerSecond)) sent/s, \(Int(deliveredPerSecond)) measured deliveries/s"
            + " (steady window); \(m.sent) sent, \(m.received) received in all")
        let l = m.latency
        lines.append("  latency      p50 \(Self.ms(l.quantile(0.5))) ms, p90 \(Self.ms(l.quantile(0.9))) ms,"
            + " p99 \(Self.ms(l.quantile(0.99))) ms, p99.9 \(Self.ms(l.quantile(0.999))) ms, max \(Self.ms(l.max)) ms"
            + " (\(l.count) deliveries)")
        lines.append("  acks         \(m.acks), p99 \(Self.ms(m.ackLatency.quantile(0.99))) ms")
        let errors = m.errors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        lines.append("  errors       \(m.errorCount)\(errors.isEmpty ? "" : " (\(errors))")")
        if m.stepsRedone > 0 {
            lines.append("  redone       \(m.stepsRedone) facilitator steps (rooms restored without their last changes)")
        }
        if !m.races.isEmpty {
            let races = m.races.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            lines.append("  races        \(races) (refusals a live group meets too; not errors)")
        }
        if c.reconnect {
            let o = m.outages
            let times = o.resumeSeconds
            let from = o.referenceAt != nil ? "the reference instant"
                : o.referenceMissing ? "each close (the reference file could not be read)" : "each close"
            let began = o.began.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            lines.append("  outages      \(o.resumes.count + o.lost) (\(began)): \(o.resumes.count) resumed,"
                + " \(o.lost) lost; \(o.resumes.filter(\.replay).count) replays,"
                + " \(o.resumes.filter { !$0.replay }.count) fresh snapshots; \(o.attempts) reconnects")
            lines.append("  resumed      p50 \(Self.seconds(OutageMetrics.quantile(0.5, of: times))) s,"
                + " p99 \(Self.seconds(OutageMetrics.quantile(0.99, of: times))) s,"
                + " max \(Self.seconds(times.last ?? 0)) s after \(from)")
            var mirror = "  mirror       \(o.mirrorRooms) rooms compared at their end, \(o.mirrorFailures) differ"
            if let example = o.mirrorExample { mirror += " (\(example))" }
            lines.append(mirror + "; \(o.mirrorUnchecked) clients did not see their session end")
        }
        lines.append("  generator    CPU \((loadCPUPercent * 10).rounded() / 10) % of a core"
            + " (near 100: the load, not the server, is the limit)")
        if let server {
            var line = "  server       peak RSS \(server.peakRSSKiB) KiB,"
                + " CPU \((server.cpuPercent * 10).rounded() / 10) % of a core"
            if let lag = server.loopLagP99Milliseconds {
                line += lag.isFinite ? ", loop lag p99 ≤ \(lag) ms" : ", loop lag p99 over 1 s"
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
