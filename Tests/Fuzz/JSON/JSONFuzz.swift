// The JSON parser and its readers of the same grammar: the tree parser and the top-object scanner (its skip mode
// reached for any value by wrapping it as a member) accept the same texts and refuse the others with the same error
// (message and offset); a scanned member reads back as the tree has it; and what the serializer writes parses back
// to the same value.
@testable import CircleJSON

let limitSets = [JSONLimits(), JSONLimits(maxDepth: 3, maxStringBytes: 8, maxMembers: 3)]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: count)
    for limits in limitSets {
        let tree = Result { () throws(JSONError) in try JSON.parse(input, limits: limits) }
        checkAsMember(input, limits)
        checkTopObject(input, limits, tree)
        if case .success(let value) = tree { checkRoundTrip(value, limits) }
    }
    return 0
}

/// The input as the one member's value of an object (limits one level deeper): the skip mode, through
/// `scanTopObject`, and the tree parser give the same verdict, and the same error.
func checkAsMember(_ input: UnsafeRawBufferPointer, _ limits: JSONLimits) {
    let object = Array(#"{"":"#.utf8) + Array(input) + [0x7D]
    let deeper = JSONLimits(maxDepth: limits.maxDepth + 1, maxStringBytes: limits.maxStringBytes,
                            maxMembers: limits.maxMembers)
    let tree = Result { () throws(JSONError) in try JSON.parse(object, limits: deeper) }
    let skipped = object.withUnsafeBytes { raw in
        Result { () throws(JSONError) in try JSON.scanTopObject(raw, limits: deeper) { _ in } }
    }
    switch (tree, skipped) {
    case (.success, .success): break
    case (.failure(let a), .failure(let b)): require(a == b, "parse says \(a), the skip mode says \(b)")
    default: require(false, "parse and the skip mode disagree: \(tree) vs \(skipped)")
    }
}

/// `scanTopObject` against `parseTopObject` and the tree: same verdict, the same members in order, each readable
/// through its span as the tree has it.
func checkTopObject(_ input: UnsafeRawBufferPointer, _ limits: JSONLimits, _ tree: Result<JSON, JSONError>) {
    let names = ["type", "id", "payload", "a"]
    let captured = Result { () throws(JSONError) in try JSON.parseTopObject(input, rawMembers: names, limits: limits) }
    var spans: [JSONMemberSpan] = []
    let scanned = Result { () throws(JSONError) in try JSON.scanTopObject(input, limits: limits) { spans.append($0) } }
    switch (captured, scanned) {
    case (.failure(let a), .failure(let b)):
        require(a == b, "parseTopObject says \(a), scanTopObject says \(b)")
        if case .success(.object) = tree { require(false, "an object the tree parser accepts is refused") }
    case (.success(let capture), .success):
        guard case .success(.object(let object)) = tree, object == capture.object else {
            return require(false, "parseTopObject and parse disagree")
        }
        require(spans.count == object.count, "scan saw \(spans.count) members of \(object.count)")
        for (span, (key, value)) in zip(spans, object) {
            require(span.key.stringValue(in: input) == key, "a scanned key reads differently")
            require(span.key.isString(in: input), "a key span is not a string")
            if span.key.isPlain {
                let raw = String(decoding: input[(span.key.range.lowerBound + 1)..<(span.key.range.upperBound - 1)],
                                 as: UTF8.self)
                require(raw == key && key.utf8.allSatisfy({ $0 < 0x80 }), "a plain key is not its own bytes")
            }
            require(span.value.json(in: input, limits: .init(maxDepth: 64)) == value,
                    "a scanned value reads differently")
            switch value {
            case .string(let s): require(span.value.stringValue(in: input) == s, "span string differs")
            case .number(let d): require(span.value.doubleValue(in: input) == d, "span number differs")
            case .bool(let b): require(span.value.boolValue(in: input) == b, "span bool differs")
            case .null: require(span.value.isNull(in: input), "span null differs")
            default: break
            }
            require(span.value.intValue(in: input) == value.intValue, "span intValue differs")
        }
        for (name, range) in zip(names, capture.rawRanges) {
            let span = spans.first { $0.key.stringValue(in: input) == name }
            require(range == span?.value.range, "captured range of \(name) differs from the scan")
        }
    default:
        require(false, "parseTopObject and scanTopObject disagree: \(captured) vs \(scanned)")
    }
}

/// Serialized text parses back to the same value (within limits one level deeper: the writer adds nothing), and
/// serializing that gives the same bytes.
func checkRoundTrip(_ value: JSON, _ limits: JSONLimits) {
    let text = value.serialized()
    guard let again = try? JSON.parse(text, limits: limits) else {
        return require(false, "serialized text does not parse: \(String(decoding: text, as: UTF8.self))")
    }
    require(again == value, "serialized value parses differently")
    require(again.serialized() == text, "serializing twice gives different text")
    var writer = JSONWriter()
    writer.value(value)
    require(writer.bytes == text, "JSONWriter.value differs from serialized()")
}
