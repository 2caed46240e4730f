import CircleRoom
import CircleServer

/// What the room service can be told.
public struct RoomServiceConfiguration: Sendable {
    /// The HS256 secret tokens are signed with.
    public var secret: [UInt8]
    /// Rules and limits of each room (participants, grace, log size, signal cap, reactions, pacing).
    public var room = RoomConfig()
    /// Rooms one server holds at most; a join that would open one more is answered 503 before the upgrade.
    public var maxRooms = 10_000
    /// Messages (and frames) per second a connection may send, sustained, in bursts of twice as many. Beyond it each
    /// message gets `rate_limited`.
    public var messagesPerSecond = 20
    /// The burst: twice the rate.
    public var messageBurst: Int { messagesPerSecond * 2 }
    /// A connection refused this many messages or frames by the rate limit within ``floodWindowSeconds`` is closed
    /// with 1008 (at most 255).
    public var floodCloseAfter = 100
    /// The window over which refusals are counted towards ``floodCloseAfter``.
    public var floodWindowSeconds = 10
    /// Seconds of clock skew allowed on `exp` and `nbf`.
    public var tokenLeewaySeconds: Int64 = 0
    /// The longest a token may live: one whose `exp` is further ahead is refused. An ended session's room id is
    /// refused to tokens issued before its end for this long (plus the leeway), so that no link outlives it.
    public var maxTokenLifetimeSeconds: Int64 = 86_400
    /// Ended sessions remembered at most; past it the oldest is forgotten first.
    public var maxEndedRooms = 100_000
    /// Who opens a group's session by joining: facilitators (and co-facilitators), or anyone (peer-led groups).
    public var sessionOpeners = SessionOpeners.facilitators

    public init(secret: [UInt8]) { self.secret = secret }
}

/// Who opens a group's session by joining it; everyone else who arrives first waits (`waiting_for_facilitator`).
public enum SessionOpeners: String, Sendable, CaseIterable {
    case facilitators
    case anyone

    func mayOpen(_ role: Role) -> Bool {
        self == .anyone || role == .facilitator || role == .cofacilitator
    }
}

extension ServeSettings {
    /// The rooms' configuration these settings describe, beside ``ServeSettings/serverConfiguration``.
    public func roomServiceConfiguration(secret: [UInt8]) -> RoomServiceConfiguration {
        var config = RoomServiceConfiguration(secret: secret)
        config.room.grace = .seconds(graceSeconds)
        config.room.maxParticipants = maxParticipants
        config.maxRooms = maxRooms
        config.messagesPerSecond = messageRate
        config.maxTokenLifetimeSeconds = Int64(maxTokenTTL)
        config.sessionOpeners = SessionOpeners(rawValue: sessionOpeners) ?? .facilitators
        return config
    }
}
