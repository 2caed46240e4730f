import CircleLoop
import CircleRoom
import CircleStore
import Glibc
import Logging
import Metrics

/// What the store last took of a room, kept on the room (``HostedRoom/stored``): no lookup by id per input.
struct StoredMarks {
    /// The seq the store has of the room (its last snapshot, or the journal record after it), and the seats of that
    /// snapshot (clustered: a room with a new seat is saved at once).
    var seq: UInt64 = 0
    var seats = 0
    /// The safety state last written: locked, and how many were removed.
    var locked = false
    var removed = 0
    /// When the room first changed since its last snapshot (`EventLoop.hrtime`); nil when saved.
    var dirtySince: UInt64?
    /// Whether this process wrote the room's last snapshot: only then do its inputs go to the journal.
    var canJournal = false
    /// Journal records since that snapshot, and when the first was written (`EventLoop.hrtime`).
    var journaled = 0
    var journalSince: UInt64?
}

/// The rooms' side of the store: each change within ``RoomStorage/saveInterval``, as a journal record or the room's
/// snapshot; safety writes (lock, removal) durable before the room's effects go out; rooms restored at startup (their
/// journals replayed); every room's snapshot at a graceful shutdown. See Docs/STORAGE.md, "Integration".
final class RoomStorage {
    /// Crash-loss bound: a changed room's snapshot or journal records leave at most this long after the change.
    static let saveInterval: UInt64 = 100
    /// A room's journal since its snapshot is kept to this many records and this age: then a snapshot replaces it.
    static let journalLimit = 64
    static let journalAgeNanoseconds: UInt64 = 30_000_000_000
    /// The clock pair every snapshot and journal record of this process is written with (``JournalRecord``).
    let processRebase = RoomStorage.rebase
    /// Rooms with journal records since their snapshot (``StoredMarks/journalSince``), each once.
    private var journaling: [HostedRoom] = []
    private let journalGauge = Gauge(label: "circle_store_journal_records_written")
    private var journalWritten = 0
    let store: any GroupStore
    unowned let service: RoomService
    let journals: Bool
    let timer: LoopTimer
    private var timerArmed = false
    private var timerDue: UInt64 = 0
    private var timerWait: UInt64 = 0
    /// Rooms changed since their last snapshot (``StoredMarks/dirtySince``), each once.
    private var dirty: [HostedRoom] = []
    /// Effects held until a durable safety write commits, per room, with the writes still in flight.
    private var held: [ObjectIdentifier: (hosted: HostedRoom, effects: [RoomEffect], pending: Int)] = [:]
    /// Rooms restored without the guarantee that nothing came after their snapshot: the snapshot's seq. A resume
    /// past it (with no epoch to compare) gets a fresh snapshot.
    private var restoredSeq: [String: UInt64] = [:]
    private var isShutDown = false
    private let healthGauge = Gauge(label: "circle_store_healthy")
    private let queuedGauge = Gauge(label: "circle_store_queued_writes")
    private let committedGauge = Gauge(label: "circle_store_writes_committed")
    private let refusedGauge = Gauge(label: "circle_store_writes_refused")
    private let failedGauge = Gauge(label: "circle_store_failed_batches")
    private let snapshotsGauge = Gauge(label: "circle_store_snapshots_written")
    private var snapshotsWritten = 0
    private var loggedFailure = false

    /// `journals`: inputs go to the journal between snapshots (one process on a data directory). A cluster node
    /// writes snapshots only: the node that takes a room over restores it from the shared store as it was.
    init(store: any GroupStore, service: RoomService, timer: LoopTimer, journals: Bool) {
        self.journals = journals
        self.store = store
        self.service = service
        self.timer = timer
    }

    private var logger: Logger { service.server.logger }

    static var wallNanoseconds: Int64 { EventLoop.wallNanoseconds }

    static var rebase: InstantRebase {
        InstantRebase(now: Instant(nanoseconds: EventLoop.hrtime), wallNanoseconds: wallNanoseconds)
    }

    /// A new room's epoch: the wall clock in milliseconds, so each incarnation of a room id has its own.
    static var newEpoch: UInt64 { UInt64(max(1, wallNanoseconds / 1_000_000)) }

    // MARK: Running

    /// A room was opened: it gets its epoch.
    func opened(_ hosted: HostedRoom) {
        hosted.room.epoch = Self.newEpoch
    }

    /// After every input's effects: journals the input or remembers the room for the next snapshot, and writes a
    /// change of its safety state. `input` is what the room just took at `now` (nil: something else changed it).
    /// Returns true when the room's effects are held (a durable safety write is in flight); they go out, in order,
    /// when it commits.
    func holdsEffects(of hosted: HostedRoom, after input: RoomInput?, at now: Instant) -> Bool {
        let room = hosted.room
        let key = ObjectIdentifier(hosted)
        let safety = room.safety
        let written = hosted.stored
        if safety.locked != written.locked || safety.removed.count != written.removed {
            hosted.stored.locked = safety.locked
            hosted.stored.removed = safety.removed.count
            let tighter = (safety.locked && !written.locked) || safety.removed.count > written.removed
            let state = SafetyState(locked: safety.locked, removed: safety.removed.sorted())
            if tighter {
                // The room's snapshot rides in the same durable batch, so a room made moments ago comes back whole.
                markDirty(hosted)
                save()
                held[key, default: (hosted, [], 0)].pending += 1
                store.putSafety(group: room.id, state, durable: true) { [weak self] error in
                    self?.committed(key, error: error)
                }
            } else {
                store.putSafety(group: room.id, state, durable: false, completion: nil)
                armTimer()
            }
        }
        if let input, journal(hosted, input, at: now) {
            // In the journal, to be replayed after a crash.
        } else if room.seq != hosted.stored.seq {
            markDirty(hosted)
            if service.cluster != nil && room.participantCount > hosted.stored.seats {
                // A new seat leaves at once: a room that moves now (its owner starved past its lease) keeps it.
                if write(hosted, rebase: processRebase) { hosted.stored.dirtySince = nil } else { armTimer() }
                service.cluster?.leases.flushWrites()  // in Redis before the welcome reaches the client
            } else {
                armTimer()
            }
        }
        guard held[key] != nil else { return false }
        held[key]!.effects.append(contentsOf: room.effects)
        return true
    }

    /// Writes `input` to the room's journal when the journal carries on from the room's stored state (this
    /// process's snapshot, then records with no gap) and has room; true when it did.
    /// (Every change of the room's seq passes here, so with no snapshot pending the stored seq is the seq before
    /// `input`.)
    private func journal(_ hosted: HostedRoom, _ input: RoomInput, at now: Instant) -> Bool {
        let room = hosted.room
        let marks = hosted.stored
        let seqBefore = marks.seq
        let changed = room.seq != seqBefore
        guard marks.canJournal, marks.dirtySince == nil, marks.journaled < Self.journalLimit, journals,
              JournalRecord.records(input, seqChanged: changed)
        else {
            // A join or a drop changes who holds which connection without an event: a snapshot keeps it instead.
            if !changed && JournalRecord.records(input, seqChanged: false) { saveSoon(hosted) }
            return false
        }
        let record = JournalRecord(epoch: room.epoch, seqBefore: seqBefore, seqAfter: room.seq, now: now,
                                   rebase: processRebase, input: input)
        guard store.appendEvent(group: room.id, seq: room.seq, bytes: record.bytes()) else {
            saveSoon(hosted)  // refused (the queue is full): the store now waits for the room's next snapshot
            return true
        }
        hosted.stored.seq = room.seq
        hosted.stored.journaled += 1
        if hosted.stored.journalSince == nil {
            hosted.stored.journalSince = EventLoop.hrtime
            journaling.append(hosted)
        }
        journalWritten += 1
        armTimer()
        return true
    }

    /// A durable safety write committed (or failed): the room's held effects go out once none is in flight.
    private func committed(_ key: ObjectIdentifier, error: StoreError?) {
        guard var entry = held[key] else { return }
        if let error {
            // The store retries the write; the room goes on rather than freeze. /readyz says the store is failing.
            logger.error("safety write failed", metadata: ["room": "\(entry.hosted.room.id)", "error": "\(error)"])
        }
        entry.pending -= 1
        if entry.pending > 0 {
            held[key] = entry
            return
        }
        held[key] = nil
        _ = service.perform(entry.effects, of: entry.hosted)
    }

    /// A room was dropped (its session ended, or its last seat is gone): its state leaves the store.
    func dropped(_ hosted: HostedRoom) {
        let id = hosted.room.id
        hosted.stored = StoredMarks()
        restoredSeq[id] = nil
        guard !isShutDown else { return }
        store.dropRoom(group: id)
        armTimer()
    }

    /// Whether a resume must get a fresh snapshot instead of a replay: its epoch is not the room's, or (without an
    /// epoch) its `since` is past what a room restored after a crash had on disk.
    func needsFreshSnapshot(room id: String, since: UInt64, epoch: String?) -> Bool {
        guard let hosted = service.rooms[id] else { return false }
        if let epoch {
            return UInt64(epoch) != hosted.room.epoch
        }
        if let saved = restoredSeq[id] { return since > saved }
        return false
    }

    /// Loop time one save may take for rooms changed less than ``saveInterval`` ago; the rooms left wait for the
    /// next turn. A room changed longer ago is saved whatever the budget: the bound holds when the loop is behind.
    static let saveBudgetNanoseconds: UInt64 = 2_000_000

    private func saveSoon(_ hosted: HostedRoom) {
        markDirty(hosted)
        armTimer()
    }

    private func markDirty(_ hosted: HostedRoom) {
        guard hosted.stored.dirtySince == nil else { return }
        hosted.stored.dirtySince = EventLoop.hrtime
        dirty.append(hosted)
    }

    /// Arms the save timer to fire within `wait` (unless it already does: armed with a wait no longer than this one,
    /// it fires first, which needs no clock).
    private func armTimer(afterMilliseconds wait: UInt64 = saveInterval) {
        guard !isShutDown, !timerArmed || wait < timerWait else { return }
        let due = EventLoop.hrtime &+ wait * 1_000_000
        guard !timerArmed || due < timerDue else { return }
        timerArmed = true
        timerDue = due
        timerWait = wait
        timer.start(afterMilliseconds: wait) { [unowned self] in
            self.timerArmed = false
            self.save()
        }
    }

    /// Writes the snapshot of every changed room, oldest change first, then hands the batch to the writer. Rooms
    /// past the bound all go; the fresher ones within the per-turn budget, the rest next turn.
    private func save(final: Bool = false) {
        let rebase = processRebase
        let start = EventLoop.hrtime
        let overdue = start &- Self.saveInterval * 1_000_000
        var refused = 0
        var overBudget = false
        // A journal older than its bound gives way to a snapshot (replays stay short, the store can compact).
        for hosted in journaling where start &- (hosted.stored.journalSince ?? start) >= Self.journalAgeNanoseconds {
            markDirty(hosted)
        }
        dirty.removeAll { !$0.isLive || $0.stored.dirtySince == nil }
        dirty.sort { ($0.stored.dirtySince ?? 0) < ($1.stored.dirtySince ?? 0) }
        for hosted in dirty {
            guard let since = hosted.stored.dirtySince else { continue }  // listed twice (forgotten, changed again)
            if !final && since > overdue && EventLoop.hrtime &- start > Self.saveBudgetNanoseconds {
                overBudget = true
                break
            }
            if write(hosted, rebase: rebase, final: final) { hosted.stored.dirtySince = nil } else { refused += 1 }
        }
        dirty.removeAll { $0.stored.dirtySince == nil }
        // Snapshotted rooms leave the list now, before a record can put them back: each room is in it once.
        journaling.removeAll { !$0.isLive || $0.stored.journalSince == nil }
        if refused > 0 {
            logger.warning("store queue full: snapshots wait", metadata: ["rooms": "\(refused)"])
            armTimer()
        } else if overBudget {
            armTimer(afterMilliseconds: 1)
        } else if let oldest = journaling.lazy.compactMap(\.stored.journalSince).min() {
            let due = (oldest &+ Self.journalAgeNanoseconds) &- min(EventLoop.hrtime, oldest &+ Self.journalAgeNanoseconds)
            armTimer(afterMilliseconds: max(Self.saveInterval, due / 1_000_000 + 1))
        }
        store.flush()
        recordMetrics()
    }

    /// Queues the room's snapshot; false when the store refused it (its queue is full).
    private func write(_ hosted: HostedRoom, rebase: InstantRebase, final: Bool = false) -> Bool {
        let room = hosted.room
        let snapshot = RoomSnapshot(group: room.id, seq: room.seq, epoch: room.epoch,
                                    bytes: room.snapshotBytes(rebase: rebase, final: final))
        guard store.putSnapshot(snapshot) else { return false }
        hosted.stored.seq = room.seq
        hosted.stored.seats = room.participantCount
        hosted.stored.canJournal = true
        hosted.stored.journaled = 0
        hosted.stored.journalSince = nil
        snapshotsWritten += 1
        return true
    }

    func recordMetrics() {
        let stats = store.stats
        queuedGauge.record(stats.queuedWrites)
        committedGauge.record(Int64(clamping: stats.writesCommitted))
        refusedGauge.record(Int64(clamping: stats.writesRefused))
        failedGauge.record(Int64(clamping: stats.failedBatches))
        snapshotsGauge.record(snapshotsWritten)
        journalGauge.record(journalWritten)
        switch store.health {
        case .ok:
            healthGauge.record(1)
            if loggedFailure {
                loggedFailure = false
                logger.notice("store writing again")
            }
        case .failing(let error):
            healthGauge.record(0)
            if !loggedFailure {
                loggedFailure = true
                logger.error("store failing: /readyz answers 503", metadata: ["error": "\(error)"])
            }
        }
    }

    /// What makes /readyz answer 503, if anything.
    var readinessProblem: String? {
        if case .failing(let error) = store.health {
            if !loggedFailure { recordMetrics() }
            return "store failing: \(error)"
        }
        return nil
    }

    /// Graceful shutdown: every room's final snapshot (nothing comes after it), then the save timer closes; the
    /// caller closes the store, which commits everything queued.
    func shutDown(_ rooms: some Sequence<HostedRoom>) {
        guard !isShutDown else { return }
        for hosted in rooms { markDirty(hosted) }
        save(final: true)
        isShutDown = true
        // Held effects are for connections the server is closing anyway; the safety writes commit at close().
        held.removeAll()
        timer.close()
    }

    // MARK: Restore

    /// Startup, before the loop runs: every room the store holds comes back (see ``Room/restore``). `wait` blocks
    /// until the store has answered what was asked (``SQLiteStore/waitIdle()``). Returns the rooms restored.
    func restore(wait: () -> Void) throws(StoreError) -> Int {
        var ids: Result<[String], StoreError> = .success([])
        store.listRooms { ids = $0 }
        wait()
        var loaded: [RestoredRoom] = []
        var failure: StoreError?
        for id in try ids.get() {
            store.loadRoom(group: id) { result in
                switch result {
                case .success(let room): if let room { loaded.append(room) }
                case .failure(let error): failure = error
                }
            }
        }
        wait()
        if let failure { throw failure }
        let rebase = Self.rebase
        let epoch = Self.newEpoch
        var restored = 0
        for stored in loaded where restore(stored, rebase: rebase, epoch: epoch) {
            restored += 1
        }
        store.flush()
        return restored
    }

    /// One room from the store comes back and is hosted; false when there was nothing to host (the room is dropped
    /// from the store) or it could not be read (logged, left in the store).
    func restore(_ stored: RestoredRoom, rebase: InstantRebase, epoch: UInt64) -> Bool {
        guard let snapshot = stored.snapshot else {
            // Only a safety record (its snapshot was lost): an empty room that keeps the lock and the removals.
            let room = Room(id: stored.group, config: service.roomConfiguration, now: rebase.now)
            room.epoch = epoch
            let empty = try? Room.restore(room.snapshotBytes(rebase: rebase), rebase: rebase,
                                          locked: stored.safety.locked, removed: stored.safety.removed,
                                          newEpoch: epoch)
            if let empty, empty.room.safety.locked || !empty.room.safety.removed.isEmpty {
                restoredSeq[stored.group] = 0
                service.adopt(empty.room, stored: StoredMarks(locked: empty.room.safety.locked,
                                                              removed: empty.room.safety.removed.count))
                return true
            }
            store.dropRoom(group: stored.group)
            return false
        }
        do {
            let bytes = try replayJournal(stored.events, over: snapshot)
            let result = try Room.restore(bytes, rebase: rebase, locked: stored.safety.locked,
                                          removed: stored.safety.removed, newEpoch: epoch)
            let keepsSafety = result.room.safety.locked || !result.room.safety.removed.isEmpty
            guard result.room.participantCount > 0 || keepsSafety else {
                store.dropRoom(group: stored.group)
                return false
            }
            if !result.wasFinal { restoredSeq[stored.group] = result.savedSeq }
            service.adopt(result.room, stored: StoredMarks(
                seq: snapshot.seq, seats: result.room.participantCount, locked: result.room.safety.locked,
                removed: result.room.safety.removed.count))
            return true
        } catch {
            // One unreadable room must not keep the others down: it is logged and left on disk.
            logger.error("room not restored", metadata: ["room": "\(stored.group)", "error": "\(error)"])
            return false
        }
    }

    /// The snapshot carried forward by the room's journal: each record's input replayed through the engine at its
    /// instant, on the clock of the process that wrote them. The replay stops at the first record that does not
    /// follow on (another epoch or clock, a gap in the seqs, a record that does not read) or that the engine takes
    /// differently (its seq after the input is not the recorded one): the room then comes back as it was there.
    func replayJournal(_ events: [StoredEvent], over snapshot: RoomSnapshot) throws -> [UInt8] {
        guard let first = events.first.flatMap({ JournalRecord($0.bytes) }) else { return snapshot.bytes }
        var replayed = 0
        let bytes = try Room.replaying(snapshot.bytes, rebase: first.rebase) { room in
            for event in events {
                guard let record = JournalRecord(event.bytes), record.epoch == snapshot.epoch,
                      record.rebase == first.rebase, record.seqBefore == room.seq, event.seq == record.seqAfter
                else { break }
                guard room.replay(record.input, now: record.now, expecting: record.seqAfter) else { break }
                replayed += 1
            }
        }
        if replayed < events.count {
            logger.warning("journal replay stopped early", metadata: [
                "room": "\(snapshot.group)", "replayed": "\(replayed)", "records": "\(events.count)",
            ])
        }
        return bytes
    }

    /// A room whose lease ran out by this node's clock, not yet taken by another as far as it knows: its changes
    /// since the last snapshot go out now, under the old fence, ahead of anything this node sends for the room later
    /// (a claim). Redis refuses the write if another node has claimed the room; else the next owner (this node
    /// again, or another) restores it, with every seat and change its clients saw.
    func saveLast(_ hosted: HostedRoom) {
        guard hosted.isLive, hosted.stored.dirtySince != nil else { return }
        if write(hosted, rebase: processRebase) { hosted.stored.dirtySince = nil }
        store.flush()
    }

    /// A room this node no longer owns (RoomCluster): forgotten without a write, its held effects dropped.
    func forget(_ hosted: HostedRoom) {
        hosted.stored = StoredMarks()
        restoredSeq[hosted.room.id] = nil
        held[ObjectIdentifier(hosted)] = nil
    }
}

extension RoomService {
    /// Keeps the rooms in `store` (opened by the caller, who drains its completions and closes it after the loop):
    /// restores the rooms it holds (`wait` blocks until the store has answered, as the loop is not running yet),
    /// then saves each room as it changes.
    public func useStore(_ store: any GroupStore, wait: () -> Void) throws(StoreError) {
        let storage = RoomStorage(store: store, service: self, timer: LoopTimer(loop: server.loop), journals: true)
        self.storage = storage
        let count = try storage.restore(wait: wait)
        server.logger.info("rooms restored", metadata: ["rooms": "\(count)"])
    }

    /// What makes /readyz answer 503 (the store failing), if anything.
    public var readinessProblem: String? { storage?.readinessProblem }
}
