import CircleClient
import CircleHTTP
import CircleLoop
import CircleRoom
import CircleServer
import CircleStore
import CircleWebSocket
import Logging

/// What the rooms need from a shared ownership store beyond ``RoomOwnership`` (Docs/SCALING.md).
public protocol RoomLeases: RoomOwnership {
    /// Whether this node surely holds the room's lease now, by its own monotonic clock (false after a pause longer
    /// than the lease, before any reply from the store).
    func holdsLease(group: String) -> Bool
    /// The fence of the lease this node holds for `group`, if any.
    func fence(group: String) -> UInt64?
    /// Sends the room writes queued so far at once, before anything the loop sends next (a seat's welcome).
    func flushWrites()
}

extension RoomService {
    /// Runs this node as one of several sharing `store` (room state, fenced by `leases`): no room is restored at
    /// startup; a room is hosted here only while this node holds its lease, and joins for a room another node owns
    /// are relayed to it. `store` is drained and closed by the caller.
    public func useCluster(store: any GroupStore, leases: any RoomLeases, claimPatienceMilliseconds: UInt64 = 3_000) {
        storage = RoomStorage(store: store, service: self, timer: LoopTimer(loop: server.loop), journals: false)
        let cluster = RoomCluster(service: self, leases: leases,
                                  patienceNanoseconds: (leases.leaseMilliseconds + claimPatienceMilliseconds)
                                      * 1_000_000)
        self.cluster = cluster
        leases.onLost = { [unowned cluster] group in cluster.lost(group) }
    }

    /// Rooms whose lease this node lost or gave up since it started, and joins relayed to another node (tests).
    public var clusterCounts: (lost: Int, relays: Int) { (cluster?.lostCount ?? 0, cluster?.relayCount ?? 0) }

    /// The room stops at once, without a broadcast or a write; its clients get 1012 and come back to the new owner.
    func stop(_ hosted: HostedRoom) {
        storage?.forget(hosted)
        hosted.timer?.close()
        hosted.isLive = false
        if rooms[hosted.room.id] === hosted { rooms[hosted.room.id] = nil }
        metrics?.rooms.record(rooms.count)
        var closing: [ServerConnection] = []
        for entry in slots where entry.hosted === hosted {
            if let connection = entry.connection { closing.append(connection) }
        }
        for connection in closing {
            connection.close(code: CloseCode.serviceRestart, reason: "room moved to another node")
        }
        logger.warning("room lost to another node", metadata: ["room": "\(hosted.room.id)",
                                                               "clients": "\(closing.count)"])
    }
}

extension CloseCode {
    /// Service Restart (RFC 6455 §7.4.1): the client resumes, here or on another node.
    static let serviceRestart: UInt16 = 1012
    /// Try Again Later: the room's owner could not be reached or replaced in time.
    static let tryAgainLater: UInt16 = 1013
}

/// A join held while this node claims its room (and loads it), or relays it: the messages it sends meanwhile wait.
final class PendingJoin {
    let connection: ServerConnection
    let join: RoomJoin
    var buffered: [[UInt8]] = []
    var closed = false
    /// After this (`EventLoop.hrtime`), a room whose owner cannot be reached is given up with 1013.
    let deadline: UInt64

    init(connection: ServerConnection, join: RoomJoin, deadline: UInt64) {
        self.connection = connection
        self.join = join
        self.deadline = deadline
    }
}

/// Room ownership on this node: claims, the rooms lost, and relays to the owners of rooms held elsewhere.
final class RoomCluster {
    unowned let service: RoomService
    let leases: any RoomLeases
    let patienceNanoseconds: UInt64
    /// Joins waiting for a claim (and the load that follows), by room.
    private var claiming: [String: [PendingJoin]] = [:]
    /// Open relays, by the client connection.
    private var relays: [ObjectIdentifier: RoomRelay] = [:]
    private var retryTimers: [String: LoopTimer] = [:]
    /// Owners a relay could not reach, until when (`EventLoop.hrtime`): joins for their rooms wait for the lease to
    /// lapse instead of trying each time (a dead host costs a connect timeout).
    private var unreachable: [String: UInt64] = [:]
    /// How long a relay may take to reach the owner and upgrade: a lease (at least 2 s), after which a dead owner's
    /// lease has lapsed anyway. Short bounds misfire on a busy machine and send joins round in claims.
    var relayConnectMilliseconds: UInt64 { max(leases.leaseMilliseconds, 2_000) }
    private(set) var lostCount = 0
    private(set) var relayCount = 0
    private var shuttingDown = false
    static let retryMilliseconds: UInt64 = 200
    /// Marks a join relayed by another node (its value: that node's id), which is never relayed again.
    static let relayHeader = "Circle-Relayed-By"

    init(service: RoomService, leases: any RoomLeases, patienceNanoseconds: UInt64) {
        self.service = service
        self.leases = leases
        self.patienceNanoseconds = patienceNanoseconds
    }

    private var logger: Logger { service.logger }
    private var loop: EventLoop { service.server.loop }

    /// A join for a room not live here: held until the claim says where the room lives.
    func hold(_ connection: ServerConnection, _ join: RoomJoin, deadline: UInt64? = nil) {
        let pending = PendingJoin(connection: connection, join: join,
                                  deadline: deadline ?? EventLoop.hrtime &+ patienceNanoseconds)
        connection.context = pending
        if claiming[join.roomID] != nil {
            claiming[join.roomID]!.append(pending)
            return
        }
        claiming[join.roomID] = [pending]
        claim(join.roomID)
    }

    private func claim(_ group: String) {
        leases.claim(group: group) { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(.owned(let fence, let taken)):
                self.load(group, fence: fence, taken: taken)
            case .success(.ownedBy(let owner)) where owner.address == self.leases.node.address
                || self.unreachable[owner.id].map({ $0 > EventLoop.hrtime }) == true:
                self.retry(group)  // this node's previous process, or an owner just found dead: its lease lapses
            case .success(.ownedBy(let owner)):
                let waiting = self.claiming.removeValue(forKey: group) ?? []
                for pending in waiting where !pending.closed {
                    if pending.join.relayed {
                        // Never a second hop (the owner moved on): the client comes back through the balancer.
                        pending.closed = true
                        pending.connection.context = nil
                        pending.connection.close(code: CloseCode.serviceRestart, reason: "room moved to another node")
                    } else {
                        self.relay(pending, to: owner)
                    }
                }
            case .failure(let error):
                self.logger.warning("room claim failed", metadata: ["room": "\(group)", "error": "\(error)"])
                self.retry(group)
            }
        }
    }

    /// Claims again shortly (the owner could not be reached, or the store answered with an error), until the
    /// joins' patience runs out: they are closed with 1013.
    private func retry(_ group: String) {
        let now = EventLoop.hrtime
        var waiting = claiming[group] ?? []
        for pending in waiting where !pending.closed && pending.deadline <= now {
            pending.closed = true
            pending.connection.context = nil
            pending.connection.close(code: CloseCode.tryAgainLater, reason: "room owner unreachable")
        }
        waiting.removeAll { $0.closed }
        guard !waiting.isEmpty, !shuttingDown else {
            claiming[group] = nil
            return
        }
        claiming[group] = waiting
        let timer = retryTimers[group] ?? LoopTimer(loop: loop)
        retryTimers[group] = timer
        timer.start(afterMilliseconds: Self.retryMilliseconds) { [weak self] in
            guard let self else { return }
            self.retryTimers.removeValue(forKey: group)?.close()
            if self.claiming[group] != nil { self.claim(group) }
        }
    }

    /// This node holds the lease: the room comes from the store (when it is not live here), then the joins enter.
    private func load(_ group: String, fence: UInt64, taken: Bool) {
        guard let storage = service.storage else { return }
        if service.rooms[group] != nil { return admit(group) }
        storage.store.loadRoom(group: group) { [weak self] result in
            guard let self else { return }
            guard self.leases.fence(group: group) == fence else { return self.retry(group) }
            switch result {
            case .success(let stored):
                if let stored, self.service.rooms[group] == nil {
                    let restored = storage.restore(stored, rebase: RoomStorage.rebase, epoch: RoomStorage.newEpoch)
                    self.logger.info("room taken over", metadata: [
                        "room": "\(group)", "fence": "\(fence)", "restored": "\(restored)", "taken": "\(taken)",
                    ])
                    storage.store.flush()
                }
                self.admit(group)
            case .failure(let error):
                self.logger.warning("room load failed", metadata: ["room": "\(group)", "error": "\(error)"])
                self.retry(group)
            }
        }
    }

    /// The joins held for `group` enter the room hosted here, with their resume decided against it.
    private func admit(_ group: String) {
        let waiting = claiming.removeValue(forKey: group) ?? []
        for pending in waiting where !pending.closed {
            pending.closed = true
            let connection = pending.connection
            connection.context = nil
            let join = pending.join
            join.resumeFrom = join.since
            if let since = join.since, let storage = service.storage,
               storage.needsFreshSnapshot(room: group, since: since, epoch: join.epoch) {
                join.resumeFrom = nil
            }
            service.enter(connection, join)
            for text in pending.buffered where connection.isOpen {
                service.webSocket(connection, didReceiveText: text)
            }
        }
        if service.rooms[group] == nil && service.groups.waiting[group] == nil, let fence = leases.fence(group: group) {
            leases.release(group: group, fence: fence)  // nobody stayed: the room is free for any node
        }
    }

    private func relay(_ pending: PendingJoin, to owner: NodeIdentity) {
        guard let colon = owner.address.lastIndex(of: ":"), let port = Int(owner.address[owner.address
            .index(after: colon)...]) else {
            logger.error("bad node address", metadata: ["address": "\(owner.address)"])
            pending.closed = true
            pending.connection.close(code: CloseCode.tryAgainLater, reason: "room owner unreachable")
            return
        }
        var host = String(owner.address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let relay = RoomRelay(cluster: self, pending: pending, owner: owner, timer: LoopTimer(loop: loop))
        pending.connection.context = relay
        relays[ObjectIdentifier(pending.connection)] = relay
        relayCount += 1
        relay.client.connect(loop: loop, host: host, port: port, path: pending.join.target,
                             extraHeaders: pending.join.forwardedHeaders
                                 + [HTTPHeader(name: RoomCluster.relayHeader, value: leases.node.id)])
        relay.timer.start(afterMilliseconds: relayConnectMilliseconds) { [unowned relay] in relay.timedOut() }
    }

    /// The owner could not be reached or refused the upgrade: the join claims the room again (the owner may be dead,
    /// its lease not yet lapsed), within its patience.
    /// `refused`: the owner's address refused the connection (nothing listens: dead or drained).
    fileprivate func relayFailed(_ relay: RoomRelay, refused: Bool) {
        relays[ObjectIdentifier(relay.pending.connection)] = nil
        if refused {
            let now = EventLoop.hrtime
            unreachable = unreachable.filter { $0.value > now }
            unreachable[relay.owner.id] = now &+ leases.leaseMilliseconds * 1_000_000
        }
        let pending = relay.pending
        guard pending.connection.isOpen, !shuttingDown else { return }
        if EventLoop.hrtime >= pending.deadline {
            pending.connection.close(code: CloseCode.tryAgainLater, reason: "room owner unreachable")
            return
        }
        let held = PendingJoin(connection: pending.connection, join: pending.join, deadline: pending.deadline)
        held.buffered = relay.unsent
        pending.connection.context = held
        if claiming[pending.join.roomID] != nil {
            claiming[pending.join.roomID]!.append(held)
        } else {
            claiming[pending.join.roomID] = [held]
            retry(pending.join.roomID)
        }
    }

    fileprivate func relayEnded(_ relay: RoomRelay) {
        relays[ObjectIdentifier(relay.pending.connection)] = nil
    }

    // MARK: From the service

    /// A message from a connection that has no slot: held (a claim in flight) or relayed.
    func received(_ text: [UInt8], from connection: ServerConnection) {
        if let pending = connection.context as? PendingJoin {
            if pending.buffered.count < 64 { pending.buffered.append(text) }
        } else if let relay = connection.context as? RoomRelay {
            relay.forward(text)
        }
    }

    /// A connection with no slot closed.
    func closed(_ connection: ServerConnection) {
        if let pending = connection.context as? PendingJoin {
            pending.closed = true
        } else if let relay = connection.context as? RoomRelay {
            relay.clientClosed()
            relays[ObjectIdentifier(connection)] = nil
        }
        connection.context = nil
    }

    /// The lease of `group` was lost (a renewal refused, a fenced write refused, or it ran out by the local clock).
    /// A lease still known here ran out by the local clock only: the room's last changes go out first under its
    /// fence (`RoomStorage.saveLast`), so its clients resume, here or elsewhere, with their seats and what they saw.
    func lost(_ group: String) {
        guard let hosted = service.rooms[group] else { return }
        lostCount += 1
        if leases.fence(group: group) != nil { service.storage?.saveLast(hosted) }
        service.stop(hosted)
    }

    /// The room ended or emptied here: its lease goes (after the write that dropped its state, on the same link).
    func dropped(_ group: String) {
        guard !shuttingDown, let fence = leases.fence(group: group) else { return }
        leases.release(group: group, fence: fence)
    }

    /// Graceful shutdown, after the final snapshots were queued: every lease is released.
    func shutDown(_ groups: some Sequence<String>) {
        shuttingDown = true
        for group in groups {
            if let fence = leases.fence(group: group) { leases.release(group: group, fence: fence) }
        }
        for timer in retryTimers.values { timer.close() }
        retryTimers.removeAll()
    }
}

/// One client's join relayed to the node that owns its room: messages pass both ways unchanged, and the owner's
/// close code reaches the client (1012 when the owner drains: the client comes back and lands on the next owner).
final class RoomRelay: WebSocketClientDelegate {
    unowned let cluster: RoomCluster
    let pending: PendingJoin
    let owner: NodeIdentity
    /// Bounds the connect and the upgrade.
    let timer: LoopTimer
    private(set) var client: WebSocketClient!
    /// Messages from the client before the owner's upgrade completed.
    private(set) var unsent: [[UInt8]]
    private var opened = false
    private var done = false
    private var frame: [UInt8] = []

    init(cluster: RoomCluster, pending: PendingJoin, owner: NodeIdentity, timer: LoopTimer) {
        self.cluster = cluster
        self.pending = pending
        self.owner = owner
        self.timer = timer
        unsent = pending.buffered
        client = WebSocketClient(delegate: self)
    }

    func forward(_ text: [UInt8]) {
        if opened {
            client.send(.text, text)
        } else if unsent.count < 64 {
            unsent.append(text)
        }
    }

    /// The owner did not answer in time.
    func timedOut() {
        timer.close()
        guard !done, !opened else { return }
        done = true
        client.drop()
        cluster.relayFailed(self, refused: false)
    }

    func clientClosed() {
        timer.close()
        guard !done else { return }
        done = true
        if !client.startClose(code: WebSocketCloseCode.normal, reason: "") { client.drop() }
    }

    func webSocketClient(_ client: WebSocketClient, didReport event: WebSocketClient.Event) {
        let connection = pending.connection
        switch event {
        case .opened:
            opened = true
            timer.close()
            for text in unsent { client.send(.text, text) }
            unsent = []
        case .text(let text):
            frame.removeAll(keepingCapacity: true)
            WebSocketFrame.encode(opcode: .text, payload: text, into: &frame)
            connection.send(encodedFrame: frame)
        case .peerClosed(let code, let reason):
            timer.close()
            guard !done else { return }
            done = true
            connection.context = nil
            connection.close(code: code ?? WebSocketCloseCode.normal, reason: reason)
            cluster.relayEnded(self)
        case .connectFailed:
            timer.close()
            guard !done else { return }
            done = true
            client.drop()
            cluster.relayFailed(self, refused: true)
        case .refused:
            timer.close()
            guard !done else { return }
            done = true
            client.drop()
            cluster.relayFailed(self, refused: false)
        case .protocolFailure(let code):
            timer.close()
            guard !done else { return }
            done = true
            connection.context = nil
            connection.close(code: code, reason: "relay failed")
            cluster.relayEnded(self)
        case .closed:
            timer.close()
            guard !done else { return }
            done = true
            if opened {
                connection.context = nil
                connection.close(code: CloseCode.serviceRestart, reason: "room owner gone")
                cluster.relayEnded(self)
            } else {
                cluster.relayFailed(self, refused: false)
            }
        case .connected, .status, .response, .binary, .ping, .pong, .closeCompleted:
            break
        }
    }
}
