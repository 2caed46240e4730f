/// What a `WebSocketCodec` asks its owner to do, or tells it, in the order the input caused them.
public enum WebSocketAction: Sendable, Equatable {
    /// One complete text message; its UTF-8 is already validated.
    case text([UInt8])
    /// One complete binary message.
    case binary([UInt8])
    /// Bytes to send to the peer: the echo of the peer's close, or our close after an error.
    case write([UInt8])
    /// The pong frame answering a ping. Send it; a sender whose writes are backed up may keep only the latest one
    /// (RFC 6455 §5.5.3), so that a peer pinging without reading cannot grow its queue.
    case sendPong([UInt8])
    /// Informational: a ping arrived (its pong was emitted as `.sendPong` just before).
    case ping([UInt8])
    /// Informational: a data frame that is not the last of its message arrived (senders count frames, not only
    /// messages, against their rate limits).
    case fragment
    /// A pong arrived (keepalive uses it).
    case pong([UInt8])
    /// Informational: the peer's close frame; `code` is nil when its payload was empty.
    case peerClosed(code: UInt16?, reason: String)
    /// Close the TCP connection now, after flushing the writes already emitted. Nothing follows it.
    case closeConnection
    /// Informational, before our error close is written: why the codec failed, with the code sent.
    /// The reason is a fixed text that never quotes peer data.
    case failed(code: UInt16, reason: String)
}
