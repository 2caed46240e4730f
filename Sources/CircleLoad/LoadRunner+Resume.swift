import CircleLoop
import Glibc

/// What a client holds of its room, compared across a room's clients when the session ends (the mirror check): the
/// room's seq, phase, floor, queue and who is connected, as each client rebuilt them from its welcome (a snapshot,
/// or the view it had plus a replay) and the events after it.
struct RoomView: Equatable {
    var seq: UInt64
    var phase: String
    var floor: String?
    var queue: [String]
    /// Seats shown connected, the client's own included.
    var connected: [Int]

    /// What differs from `other`, for the report.
    func difference(from other: RoomView) -> String {
        if seq != other.seq { return "seq \(seq) != \(other.seq)" }
        if phase != other.phase { return "phase \(phase) != \(other.phase)" }
        if floor != other.floor { return "floor \(floor ?? "-") != \(other.floor ?? "-")" }
        if queue != other.queue { return "queue \(queue) != \(other.queue)" }
        return "connected seats \(connected) != \(other.connected)"
    }
}

/// Restart mode's counts: the outages (a connection the server ended, until its welcome back) and how they ended.
public struct OutageMetrics: Sendable {
    /// One resume: when the client's connection closed and when its welcome came back (`EventLoop.hrtime`), and
    /// whether the welcome replayed what it missed (else a fresh snapshot).
    public struct Resume: Sendable {
        public var closedAt: UInt64
        public var welcomedAt: UInt64
        public var replay: Bool
    }

    /// Outages by what began them: the server's close code, `1006` for a connection ended with no close frame (a
    /// crash, a reset), or a failed connect (`connect_failed`…) of a client between two connections.
    public var began: [String: Int] = [:]
    /// Outages that ended in a welcome.
    public var resumes: [Resume] = []
    /// Outages that did not end in a welcome before the deadline or the end of the run.
    public var lost = 0
    /// Reconnect attempts, and those that failed, by why (`connect_failed`, `http_503`, `closed_before_welcome`…).
    public var attempts = 0
    public var failedAttempts: [String: Int] = [:]
    /// Mirror check: rooms whose clients' final views were compared, rooms where they differed, the first
    /// difference seen, and clients with no final view (their session did not end while they were connected).
    public var mirrorRooms = 0
    public var mirrorFailures = 0
    public var mirrorExample: String?
    public var mirrorUnchecked = 0
    /// The instant resumes are timed from (``ResumeReference/file(_:)``), when it was given and read.
    public var referenceAt: UInt64?
    /// The reference file was given but could not be read: resumes are timed from each close instead.
    public var referenceMissing = false

    /// Defaults.
    public init() {}

    /// Seconds from the reference (the file's instant, else each client's close) to each welcome, sorted.
    public var resumeSeconds: [Double] {
        resumes.map { r in
            let from = referenceAt ?? r.closedAt
            return Double(r.welcomedAt &- min(r.welcomedAt, from)) / 1e9
        }.sorted()
    }

    /// The `q` quantile of sorted `values` (nearest rank), 0 when empty.
    public static func quantile(_ q: Double, of values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let rank = Int((q * Double(values.count)).rounded(.up)) - 1
        return values[min(values.count - 1, max(0, rank))]
    }
}

extension LoadRunner {
    /// Close codes after which a client comes back by itself: going away, internal error, service restart, try
    /// again later (and no code at all: the connection just ended).
    static func resumable(_ code: UInt16?) -> Bool {
        guard let code else { return true }
        return code == 1001 || code == 1011 || code == 1012 || code == 1013 || code == 1006
    }

    /// The server ended `client`'s connection (`why`: its close code, or what failed): an outage begins, unless
    /// one is already on.
    func beginOutage(_ client: LoadClient, why: String) {
        guard client.outageSince == 0 else { return }
        client.outageSince = EventLoop.hrtime
        client.reconnectAttempt = 0
        metrics.outages.began[why, default: 0] += 1
    }

    /// Schedules the next reconnect of a client in an outage, backing off; past the deadline it is lost.
    func reconnectLater(_ client: LoadClient) {
        let now = EventLoop.hrtime
        let c = configuration
        if now &- client.outageSince > UInt64(c.reconnectDeadlineSeconds * 1e9) {
            endOutageLost(client)
            return
        }
        let exponent = Double(min(client.reconnectAttempt, 30))
        let delay = min(c.reconnectMaxDelayMilliseconds, c.reconnectDelayMilliseconds * pow(2, exponent))
        client.reconnectAttempt += 1
        client.rejoinAt = now + UInt64((delay / 2 + client.random.unit() * delay / 2) * 1e6)
    }

    /// A reconnect of a client in an outage is starting.
    func reconnecting(_ client: LoadClient) {
        if client.outageSince > 0 { metrics.outages.attempts += 1 }
    }

    func endOutageLost(_ client: LoadClient) {
        guard client.outageSince > 0 else { return }
        client.outageSince = 0
        client.rejoinAt = 0
        metrics.outages.lost += 1
        metrics.error("resume_lost")
    }

    /// A welcome came back after an outage. Returns whether the client was in one.
    func endOutageResumed(_ client: LoadClient, replay: Bool, now: UInt64) -> Bool {
        guard client.outageSince > 0 else { return false }
        metrics.outages.resumes.append(.init(closedAt: client.outageSince, welcomedAt: now, replay: replay))
        client.outageSince = 0
        client.reconnectAttempt = 0
        return true
    }

    /// What `client` holds of its room now.
    func view(of client: LoadClient) -> RoomView {
        RoomView(seq: client.lastSeq, phase: client.phase, floor: client.floor, queue: client.queue,
                 connected: (client.connectedPeers.union([client.seat])).sorted())
    }

    /// The end of the run: outages still on are lost; every room's clients that saw the session end must hold the
    /// same view; the reference instant is read.
    func concludeOutages() {
        for client in clients where client.outageSince > 0 { endOutageLost(client) }
        for room in rooms {
            let views = room.compactMap(\.finalView)
            metrics.outages.mirrorUnchecked += room.count - views.count
            guard views.count >= 2 else { continue }
            metrics.outages.mirrorRooms += 1
            if let other = views.first(where: { $0 != views[0] }) {
                metrics.outages.mirrorFailures += 1
                if metrics.outages.mirrorExample == nil {
                    metrics.outages.mirrorExample = "room \(room[0].room): " + views[0].difference(from: other)
                }
            }
        }
        if configuration.reconnect && metrics.outages.mirrorFailures > 0 {
            metrics.errors["mirror_mismatch", default: 0] += metrics.outages.mirrorFailures
        }
        if case .file(let path) = configuration.resumeReference {
            metrics.outages.referenceAt = Self.readInstant(path)
            metrics.outages.referenceMissing = metrics.outages.referenceAt == nil
        }
    }

    /// A decimal `CLOCK_MONOTONIC` instant in nanoseconds, the first token of the file at `path`.
    static func readInstant(_ path: String) -> UInt64? {
        guard case .success(let bytes) = FileContents.read(path) else { return nil }
        let digits = bytes.drop { !(0x30...0x39).contains($0) }.prefix { (0x30...0x39).contains($0) }
        return UInt64(String(decoding: digits, as: UTF8.self))
    }
}
