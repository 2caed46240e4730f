import CircleHTTP
import CircleLoop
import CircleRoom
import CircleServer

/// What routing learned about a WebSocket on `/rooms/{id}`, held from the upgrade until it opens (the same call).
final class RoomJoin {
    let roomID: String
    let identity: Identity
    var resumeFrom: UInt64?
    /// The room's session has ended and the token predates the end: refused with `session_ended` and 4004.
    let sessionEnded: Bool
    /// What a node that does not own the room needs (RoomCluster): the request's target (path and query), its
    /// `Sec-WebSocket-Protocol` and `Origin` values (to relay the join to the owner), and the resume asked for (to
    /// decide it again once the room is restored here).
    var target = ""
    var forwardedHeaders: [HTTPHeader] = []
    var since: UInt64?
    var epoch: String?
    /// Relayed here by another node (``RoomCluster/relayHeader``): never relayed again.
    var relayed = false

    init(roomID: String, identity: Identity, resumeFrom: UInt64?, sessionEnded: Bool) {
        self.roomID = roomID
        self.identity = identity
        self.resumeFrom = resumeFrom
        self.sessionEnded = sessionEnded
    }
}

/// What an open room connection keeps while it lives, in the service's slot table (the connection carries only
/// the slot's ``ConnectionID`` as its tag): the connection, its room, so that a message finds it without a lookup,
/// and its rate limit. Kept small, one per joined participant: the room id and the identity live in the room.
struct RoomSlot {
    /// Nil when the slot is free.
    var connection: ServerConnection?
    var hosted: HostedRoom?
    var bucket: RateBucket
    /// One per open, so that ids stay unique when a slot is reused: the connection's id is `serial << 32 | slot`.
    var serial: UInt32
    /// When the current flood window began (the loop's milliseconds, wrapping; see ``ServerConnection/clock(_:)``).
    var floodWindowStart: UInt32 = 0
    /// Messages and frames refused by the rate limit in the current window (saturating: one of these exists per
    /// participant).
    var strikes: UInt8 = 0
}

/// A room on this loop, with the timer armed at its next deadline.
final class HostedRoom {
    let room: Room
    /// Made the first time the room has a deadline (a turn's end, a silence, a grace period): a room that never has
    /// one, as a quiet group waiting in its intro may not, holds no timer.
    var timer: LoopTimer?
    /// Whether the service still holds this room (`rooms[room.id] === self`); false once it is dropped.
    var isLive = true
    /// The session's attendance, kept from the room's events when a store or webhooks want it.
    var attendance: SessionAttendance?
    /// The last of the room's events the service has looked at (for attendance and webhooks).
    var observedSeq: UInt64 = 0
    /// What the store last took of this room (``RoomStorage``).
    var stored = StoredMarks()
    init(room: Room) {
        self.room = room
    }
}
