/// The members of a JSON object, in insertion order.
///
/// Lookups scan linearly while the object is small (protocol messages have a handful of members, where a scan beats
/// hashing); past ``indexThreshold`` members a hash index is kept as well, so large or hostile objects stay O(1)
/// per lookup and O(n) to build. The parser rejects duplicate keys, so a parsed object never has two members with
/// the same key; assigning through the subscript replaces a member's value in place.
///
/// Keys compare as Swift strings (Unicode canonical equivalence). Equality is JSON equality: the same keys with
/// equal values, regardless of order.
public struct JSONObject: Equatable, Sendable, Sequence {
    /// The number of members above which a hash index is maintained.
    static let indexThreshold = 16

    private var members: [(key: String, value: JSON)]
    private var index: [String: Int]?

    /// Creates an object from `members`, in order; a later duplicate key replaces the earlier value.
    public init(_ members: [(String, JSON)] = []) {
        self.members = []
        self.members.reserveCapacity(members.count)
        for (key, value) in members { self[key] = value }
    }

    /// The value of the member named `key`, or nil. Setting nil removes the member; setting a new key appends it.
    public subscript(key: String) -> JSON? {
        get {
            guard let i = position(of: key) else { return nil }
            return members[i].value
        }
        set {
            if let i = position(of: key) {
                if let newValue { members[i].value = newValue } else { remove(at: i) }
            } else if let newValue {
                append(key, newValue)
            }
        }
    }

    /// The keys, in order.
    public var keys: [String] { members.map(\.key) }

    /// The number of members.
    public var count: Int { members.count }

    /// Whether the object has no members.
    public var isEmpty: Bool { members.isEmpty }

    /// Iterates the members in insertion order.
    public func makeIterator() -> IndexingIterator<[(key: String, value: JSON)]> { members.makeIterator() }

    /// Appends a member unless `key` is already present; returns false (and changes nothing) if it is.
    /// The parser uses this to reject duplicate keys in O(1) amortized per member.
    mutating func insertNew(_ key: String, _ value: JSON) -> Bool {
        if position(of: key) != nil { return false }
        append(key, value)
        return true
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (key, value) in lhs.members {
            guard let other = rhs[key], other == value else { return false }
        }
        return true
    }

    private func position(of key: String) -> Int? {
        if let index { return index[key] }
        return members.firstIndex { $0.key == key }
    }

    private mutating func append(_ key: String, _ value: JSON) {
        if members.capacity == 0 { members.reserveCapacity(4) }  // skip the 1, 2, 4 growth steps of small objects
        members.append((key, value))
        if index != nil {
            index![key] = members.count - 1
        } else if members.count > Self.indexThreshold {
            rebuildIndex()
        }
    }

    private mutating func remove(at i: Int) {
        members.remove(at: i)
        if index != nil {
            if members.count > Self.indexThreshold { rebuildIndex() } else { index = nil }
        }
    }

    private mutating func rebuildIndex() {
        var built = [String: Int](minimumCapacity: members.count)
        for (i, member) in members.enumerated() { built[member.key] = i }
        index = built
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// An object with the members in the order written (a later duplicate key replaces the earlier value).
    public init(dictionaryLiteral elements: (String, JSON)...) { self.init(elements) }
}
