/// Which node owns each room when several Circle nodes share one room-state store (Docs/SCALING.md).
///
/// A node owns a room through a lease that carries a fencing epoch (`fence`), renewed while the room lives. Every
/// write the owner makes to the room's state carries that fence, and the store refuses a write whose fence is not the
/// room's current one: a node that was paused or cut off past its lease cannot write stale state after another node
/// took the room over. Same threading rules as ``RoomStateStore``: called on the loop thread, returns at once,
/// completions run later on the loop thread.
public protocol RoomOwnership: AnyObject {
    /// This node's id (unique per running process) and the address other nodes reach it at (`host:port`).
    var node: NodeIdentity { get }
    /// Takes the room's lease when it is free or lapsed (a new, higher fence), renews it when this node holds it, or
    /// reports the node that holds it.
    func claim(group: String, completion: @escaping (Result<RoomClaim, StoreError>) -> Void)
    /// Gives the lease up at once (a room that ended, or a draining node handing its rooms over). No-op when `fence`
    /// is no longer the room's.
    func release(group: String, fence: UInt64)
    /// Called on the loop thread when a lease this node held was lost (a renewal refused: another node has the room,
    /// or the lease lapsed while this process was paused). The room must stop at once: no broadcast, no write.
    var onLost: ((_ group: String) -> Void)? { get set }
    /// How long a lease lives without a renewal, in milliseconds. Renewals run every third of it.
    var leaseMilliseconds: UInt64 { get }
}

/// A running node.
public struct NodeIdentity: Sendable, Equatable, Hashable {
    /// Unique per process (a restarted node gets a new one).
    public var id: String
    /// Where other nodes reach its HTTP/WebSocket listener, `host:port`.
    public var address: String

    public init(id: String, address: String) {
        self.id = id
        self.address = address
    }
}

/// The outcome of ``RoomOwnership/claim(group:completion:)``.
public enum RoomClaim: Sendable, Equatable {
    /// This node holds the lease, with this fence: `taken` when it was just taken (the room must be restored from the
    /// store), not when an existing lease was renewed.
    case owned(fence: UInt64, taken: Bool)
    /// Another live node holds it.
    case ownedBy(NodeIdentity)
}
