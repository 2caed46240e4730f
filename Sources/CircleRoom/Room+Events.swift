extension Room {
    /// The events after `seq` still in the room's log, oldest first (nil when some have been dropped from it):
    /// what an observer that has seen up to `seq` has not.
    public func events(after seq: UInt64) -> [SequencedEvent]? {
        state.log.events(after: seq, latest: state.seq)
    }
}
