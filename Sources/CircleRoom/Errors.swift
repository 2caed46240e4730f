/// A stable error code in an `error` reply. The message that goes with it is short, fixed text.
public enum ErrorCode: String, Sendable, Codable, CaseIterable {
    /// The sender's role may not do this (nothing changed).
    case forbidden
    /// The request is malformed or its arguments are out of range.
    case invalid
    /// The target participant is not in the room (or not connected), or the queue is empty.
    case notFound = "not_found"
    /// The target participant (for a private word: every facilitator) is in their reconnect grace: try again once
    /// `connection_changed` says they are back.
    case reconnecting
    /// The request conflicts with the room's state (e.g. no one has the floor).
    case conflict
    /// The request is not allowed in the current phase.
    case wrongPhase = "wrong_phase"
    /// The sender is held muted by a facilitator and cannot unmute.
    case muted
    /// A payload or text exceeds its size cap.
    case tooLarge = "too_large"
    /// Too many requests of this kind (reactions).
    case rateLimited = "rate_limited"
    /// The room is locked: no new joins.
    case roomLocked = "room_locked"
    /// The room has no free seat.
    case roomFull = "room_full"
    /// The participant was removed from this session and cannot rejoin.
    case removed
    /// The session has ended.
    case sessionEnded = "session_ended"
    /// The session has not opened yet: the participant waits for a facilitator.
    case sessionNotOpen = "session_not_open"

    /// The code on the wire.
    public var wireName: String { rawValue }

    /// A short fixed default message for this code (never user content).
    public var defaultMessage: String {
        switch self {
        case .forbidden: "not allowed for your role"
        case .invalid: "invalid request"
        case .notFound: "not found"
        case .reconnecting: "the participant is reconnecting"
        case .conflict: "conflicts with the room state"
        case .wrongPhase: "not allowed in this phase"
        case .muted: "muted by a facilitator"
        case .tooLarge: "too large"
        case .rateLimited: "too many requests"
        case .roomLocked: "the room is locked"
        case .roomFull: "the room is full"
        case .removed: "removed from this session"
        case .sessionEnded: "the session has ended"
        case .sessionNotOpen: "the session has not started yet; you will be let in when it opens"
        }
    }
}

/// A refused command: a code and a short fixed message.
public struct CommandError: Error, Hashable, Sendable {
    /// The stable code.
    public var code: ErrorCode
    /// Short fixed text (never user content).
    public var message: String

    /// An error with a specific fixed message, or the code's default.
    public init(_ code: ErrorCode, _ message: String? = nil) {
        self.code = code
        self.message = message ?? code.defaultMessage
    }
}

/// WebSocket close codes the room engine uses (RFC 6455 §7.4; 4000–4999 are for applications).
public enum CloseCode {
    /// Normal closure: the participant left, or the session ended.
    public static let normal: UInt16 = 1000
    /// The same participant connected again; this older connection is replaced.
    public static let replaced: UInt16 = 4000
    /// Removed by a facilitator (also: a removed participant trying to rejoin).
    public static let removed: UInt16 = 4001
    /// Join refused: the room is locked.
    public static let roomLocked: UInt16 = 4002
    /// Join refused: the room is full.
    public static let roomFull: UInt16 = 4003
    /// Join refused: the session has already ended.
    public static let sessionEnded: UInt16 = 4004
}
