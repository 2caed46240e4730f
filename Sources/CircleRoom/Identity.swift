/// A participant's id in a room: the verified `sub` claim of their token.
///
/// Ids may appear in logs; display names never do.
public typealias ParticipantID = String

/// A request id chosen by the client, echoed in the `ack` or `error` that answers it.
public typealias RequestID = String

/// One live connection, numbered by the service. A participant has at most one at a time.
public struct ConnectionID: Hashable, Comparable, Sendable, Codable, ExpressibleByIntegerLiteral,
    CustomStringConvertible
{
    /// The number the service assigned.
    public var rawValue: UInt64

    /// Wraps the service's number.
    public init(_ rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public init(integerLiteral value: UInt64) {
        self.rawValue = value
    }

    public static func < (lhs: ConnectionID, rhs: ConnectionID) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    public var description: String { "conn#\(rawValue)" }
}

/// What a participant may do in a room. Raw values match the token's `role` claim.
public enum Role: String, Sendable, Codable, CaseIterable {
    /// Runs the session: every control.
    case facilitator
    /// Helps run the session: every control, but cannot act on a facilitator.
    case cofacilitator
    /// Takes part: speaks, raises a hand, reacts, sends a private word.
    case member
    /// Sees everything, does nothing (may only relay WebRTC signaling and leave).
    case observer

    /// Whether this role may use facilitator controls.
    public var canFacilitate: Bool { self == .facilitator || self == .cofacilitator }

    /// Whether this role takes part (may hold the floor, raise a hand, react).
    public var canTakePart: Bool { self != .observer }

    /// Facilitator > co-facilitator > member > observer: a control may only target a lower rank.
    var rank: Int {
        switch self {
        case .facilitator: 3
        case .cofacilitator: 2
        case .member: 1
        case .observer: 0
        }
    }
}

/// A verified identity, as the auth layer hands it over: the token's `sub`, `name` and `role` claims.
public struct Identity: Hashable, Sendable, Codable {
    /// The participant id (`sub`).
    public var sub: ParticipantID
    /// The display name. Confidential: shown to the room, never logged.
    public var name: String
    /// The role the token grants.
    public var role: Role

    /// An identity from already-verified claims.
    public init(sub: ParticipantID, name: String, role: Role) {
        self.sub = sub
        self.name = name
        self.role = role
    }
}
