/// A bounded ring of the most recent sequenced events, for resumes.
public struct EventLog: Hashable, Sendable, Codable {
    private var storage: [SequencedEvent] = []
    private var head = 0  // index of the oldest event once the ring is full
    /// How many events the log keeps.
    public let capacity: Int

    /// An empty log keeping at most `capacity` events (at least one).
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        storage.reserveCapacity(self.capacity)
    }

    /// The number of events held.
    public var count: Int { storage.count }

    /// Appends an event, dropping the oldest when full. Events must arrive in sequence order.
    public mutating func append(_ event: SequencedEvent) {
        if storage.count < capacity {
            storage.append(event)
        } else {
            storage[head] = event
            head = (head + 1) % capacity
        }
    }

    /// The oldest sequence number still held, if any.
    public var oldestSeq: UInt64? {
        storage.isEmpty ? nil : storage[head].seq
    }

    /// The events after `seq` up to `latest`, in order; `nil` if some of them are no longer held
    /// (or `seq` is in the future).
    public func events(after seq: UInt64, latest: UInt64) -> [SequencedEvent]? {
        guard seq <= latest else { return nil }
        if seq == latest { return [] }
        guard let oldest = oldestSeq, seq + 1 >= oldest else { return nil }
        let skip = Int(seq + 1 - oldest)
        var result: [SequencedEvent] = []
        result.reserveCapacity(storage.count - skip)
        for offset in skip..<storage.count {
            result.append(storage[(head + offset) % storage.count])
        }
        return result
    }
}
