/// Room ids whose session ended, each until no token issued before its end can still be valid.
struct EndedRooms {
    /// Unix seconds: when the session ended, and until when it is remembered.
    private var ended: [String: (at: Int64, until: Int64)] = [:]
    /// Ids in the order they ended (the oldest from `head` on), for expiry and for the cap.
    private var order: [String] = []
    private var head = 0

    /// Whether a token issued at `issuedAt` (nil: unknown) is refused for `roomID` at `now`.
    func refuses(_ roomID: String, issuedAt: Int64?, now: Int64) -> Bool {
        guard let entry = ended[roomID], now < entry.until else { return false }
        guard let issuedAt else { return true }
        return issuedAt <= entry.at
    }

    mutating func add(_ roomID: String, at now: Int64, for seconds: Int64, cap: Int) {
        expire(now: now)
        if ended.updateValue((now, now + seconds), forKey: roomID) == nil { order.append(roomID) }
        while ended.count > max(1, cap) { dropOldest() }
    }

    mutating func remove(_ roomID: String) { ended[roomID] = nil }

    private mutating func expire(now: Int64) {
        while head < order.count, let entry = ended[order[head]], now >= entry.until { dropOldest() }
        while head < order.count, ended[order[head]] == nil { head += 1 }  // reopened since
        if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }

    private mutating func dropOldest() {
        while head < order.count {
            let id = order[head]
            head += 1
            if ended.removeValue(forKey: id) != nil { return }
        }
    }
}
