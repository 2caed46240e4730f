/// Read access to a head's header fields, shared by requests and responses.
public protocol HTTPHeaderFields {
    /// The fields in the order received.
    var headers: [HTTPHeader] { get }
}

extension HTTPHeaderFields {
    /// The value of the first field named `name` (ASCII case-insensitive), or nil.
    public func header(_ name: String) -> String? {
        for h in headers where HTTPSyntax.equalsIgnoringCase(h.name, name) { return h.value }
        return nil
    }

    /// The values of every field named `name` (ASCII case-insensitive), in order.
    public func headerValues(_ name: String) -> [String] {
        headers.lazy.filter { HTTPSyntax.equalsIgnoringCase($0.name, name) }.map(\.value)
    }

    /// Whether any field named `name` lists `token` among its comma-separated elements (ASCII case-insensitive,
    /// whitespace around elements ignored), as in `Connection: keep-alive, Upgrade`.
    public func headerHasToken(_ name: String, _ token: String) -> Bool {
        for h in headers where HTTPSyntax.equalsIgnoringCase(h.name, name) {
            if let found = HTTPSyntax.asciiListContains(h.value, token) {
                if found { return true }
                continue
            }
            for element in HTTPSyntax.listElements(h.value) where HTTPSyntax.equalsIgnoringCase(element, token) {
                return true
            }
        }
        return false
    }

    /// How many fields are named `name` (ASCII case-insensitive).
    public func headerCount(_ name: String) -> Int {
        var count = 0
        for h in headers where HTTPSyntax.equalsIgnoringCase(h.name, name) { count += 1 }
        return count
    }

    /// Every comma-separated element of every field named `name`, trimmed, empty elements dropped, in order.
    public func headerListElements(_ name: String) -> [String] {
        var out: [String] = []
        for h in headers where HTTPSyntax.equalsIgnoringCase(h.name, name) {
            for element in HTTPSyntax.listElements(h.value) { out.append(String(element)) }
        }
        return out
    }
}
