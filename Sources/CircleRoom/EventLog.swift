/// A bounded ring of the most recent sequenced events, for resumes.
///
/// Events are logged in sequence order, one apart, so only the newest sequence number is stored: an event's own is
/// implied by its place. The ring grows with the events it holds (no storage is reserved up front) up to `capacity`.
public struct EventLog: Hashable, Sendable, Codable {
    private var storage: [RoomEvent] = []
    private var head = 0  // index of the oldest event once the ring is full
    private var newestSeq: UInt64 = 0
    /// How many events the log keeps.
    public let capacity: Int

    /// An empty log keeping at most `capacity` events (at least one).
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The number of events held.
    public var count: Int { storage.count }

    /// Appends an event, dropping the oldest when full. Events must arrive in sequence order; an event that does not
    /// follow the newest one directly starts the log afresh (what came before can no longer be replayed gap-free).
    public mutating func append(_ event: SequencedEvent) {
        if !storage.isEmpty, event.seq != newestSeq &+ 1 {
            storage.removeAll(keepingCapacity: true)
            head = 0
        }
        newestSeq = event.seq
        if storage.count < capacity {
            if storage.count == storage.capacity {
                // Grow by half (at least 8), never past the capacity: a room's log costs what it holds.
                storage.reserveCapacity(min(capacity, max(8, storage.count + storage.count / 2)))
            }
            storage.append(event.event)
        } else {
            storage[head] = event.event
            head = (head + 1) % capacity
        }
    }

    /// The oldest sequence number still held, if any.
    public var oldestSeq: UInt64? {
        storage.isEmpty ? nil : newestSeq - UInt64(storage.count) + 1
    }

    /// The events after `seq` up to `latest`, in order; `nil` if some of them are no longer held
    /// (or `seq` is in the future).
    public func events(after seq: UInt64, latest: UInt64) -> [SequencedEvent]? {
        guard seq <= latest else { return nil }
        if seq == latest { return [] }
        guard let oldest = oldestSeq, seq + 1 >= oldest, latest <= newestSeq else { return nil }
        let skip = Int(seq + 1 - oldest)
        let end = storage.count - Int(newestSeq - latest)
        var result: [SequencedEvent] = []
        result.reserveCapacity(end - skip)
        for offset in skip..<end {
            result.append(SequencedEvent(seq: oldest + UInt64(offset), event: storage[(head + offset) % storage.count]))
        }
        return result
    }
}
