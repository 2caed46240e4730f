import CircleCrypto
import CircleJSON

/// One webhook: what happened to a group, as the JSON body POSTed to the platform.
/// `{"type": …, "at": Unix ms, "data": {"group": …, "session": n, …}}`; its id (`webhook-id`) stays the same across
/// retries, so a receiver can drop a repeat.
public struct WebhookEvent: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case sessionOpened = "session_opened"
        case participantJoined = "participant_joined"
        case participantLeft = "participant_left"
        case sessionEnded = "session_ended"
    }

    public let kind: Kind
    public let id: String
    public let body: [UInt8]

    /// `data` writes the members of `data` after `group` and `session`.
    public init(_ kind: Kind, group: String, session: Int, atUnixMilliseconds at: Int64,
                data: (inout JSONWriter) -> Void = { _ in }) {
        self.kind = kind
        id = "msg_" + Base64.encodeURL(Crypto.randomBytes(12))
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.key("type"); w.string(kind.rawValue)
        w.key("at"); w.int(Int(at))
        w.key("data"); w.beginObject()
        w.key("group"); w.string(group)
        w.key("session"); w.int(session)
        data(&w)
        w.endObject()
        w.endObject()
        body = w.bytes
    }
}
