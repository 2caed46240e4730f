/// Which end of the connection a codec plays: servers receive masked frames, clients send them.
public enum WebSocketRole: Sendable {
    /// Accepts connections: receives masked frames, sends unmasked ones.
    case server
    /// Opens connections: sends masked frames, receives unmasked ones.
    case client
}

/// The opcodes RFC 6455 defines (§5.2). Any other value on the wire is a protocol error.
public enum WebSocketOpcode: UInt8, Sendable {
    /// A further fragment of the message in progress.
    case continuation = 0
    /// The first frame of a UTF-8 text message.
    case text = 1
    /// The first frame of a binary message.
    case binary = 2
    /// Starts or answers the close handshake.
    case close = 8
    /// Asks the peer for a pong with the same payload.
    case ping = 9
    /// Answers a ping, or serves as a unidirectional heartbeat.
    case pong = 10

    /// Close, ping and pong: at most 125 bytes, never fragmented, allowed between fragments.
    public var isControl: Bool { rawValue & 0x08 != 0 }
}

/// Caps on what a peer may make us buffer, checked from the frame header before anything is allocated.
public struct WebSocketLimits: Sendable, Equatable {
    /// The largest payload of one frame.
    public var maxFrameSize: Int
    /// The largest reassembled message (sum of its fragments).
    public var maxMessageSize: Int

    /// Limits; both default to 1 MiB.
    public init(maxFrameSize: Int = 1 << 20, maxMessageSize: Int = 1 << 20) {
        self.maxFrameSize = maxFrameSize
        self.maxMessageSize = maxMessageSize
    }
}

/// Close status codes (RFC 6455 §7.4 and the IANA registry).
public enum WebSocketCloseCode {
    /// The purpose of the connection has been fulfilled.
    public static let normal: UInt16 = 1000
    /// The endpoint is going away (server shutdown, page navigation).
    public static let goingAway: UInt16 = 1001
    /// The peer broke the protocol.
    public static let protocolError: UInt16 = 1002
    /// The peer sent a kind of data this endpoint does not accept.
    public static let unsupportedData: UInt16 = 1003
    /// Reserved: "no code was present". Never sent on the wire.
    public static let noStatus: UInt16 = 1005
    /// Reserved: "closed without a close frame". Never sent on the wire.
    public static let abnormal: UInt16 = 1006
    /// A text message or close reason was not valid UTF-8.
    public static let invalidPayload: UInt16 = 1007
    /// A message violated the endpoint's policy.
    public static let policyViolation: UInt16 = 1008
    /// A frame or message exceeded the endpoint's limits.
    public static let messageTooBig: UInt16 = 1009
    /// (Client only) a required extension was not negotiated.
    public static let mandatoryExtension: UInt16 = 1010
    /// The server hit an unexpected condition.
    public static let internalError: UInt16 = 1011
    /// The server is restarting; reconnect later.
    public static let serviceRestart: UInt16 = 1012
    /// The server is overloaded; try again later.
    public static let tryAgainLater: UInt16 = 1013
    /// A gateway got an invalid response upstream.
    public static let badGateway: UInt16 = 1014

    /// Whether `code` may appear in a received close frame: 1000–1003, 1007–1014, or 3000–4999.
    /// 1004–1006 and 1015 are reserved for local use; 0–999, 1016–2999 and 5000+ are not assignable.
    public static func isValidOnWire(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }
}
