import CircleRoom

/// One decoded client message: a command for the room and the client's optional request id.
public struct ClientRequest: Hashable, Sendable {
    /// The client's request id, echoed in the `ack` or `error` that answers it.
    public var id: RequestID?
    /// What the client asks the room to do.
    public var command: Command

    /// A request.
    public init(id: RequestID? = nil, command: Command) {
        self.id = id
        self.command = command
    }
}

/// Why a client message could not be decoded. Answer it with ``reply``; the connection stays open.
///
/// `message` is short fixed text: it may name one of the protocol's own fields, but never repeats any of the input,
/// so it is safe to log and to send back.
public struct DecodeFailure: Error, Hashable, Sendable {
    /// The message's request id, when it could be read (even from a message that is otherwise malformed).
    public var id: RequestID?
    /// `invalid` for malformed JSON, an unknown `type` or a missing, ill-typed or unknown field; `too_large` for a
    /// message over ``ProtocolLimits/maxMessageBytes`` or a string over ``ProtocolLimits/maxStringBytes``.
    public var code: ErrorCode
    /// Short fixed text.
    public var message: String

    /// A failure.
    public init(id: RequestID?, code: ErrorCode, message: String) {
        self.id = id
        self.code = code
        self.message = message
    }

    /// The `error` message to send back to the client.
    public var reply: Outbound { .error(id, code, message: message) }
}
