import CircleJSON

/// A parsed top-level object and the byte ranges of chosen members' values in the input: the reference that the
/// validating scanner (`JSON.scanTopObject`) and the protocol decoder are held to. Built on the tree parser.
public struct JSONObjectCapture: Sendable, Equatable {
    public var object: JSONObject
    /// For each requested member, in request order, its value's bytes in the input (no surrounding whitespace).
    public var rawRanges: [Range<Int>?]
}

extension JSON {
    /// Parses a text that must be an object ("expected an object" otherwise, where its first value starts) and
    /// finds the value ranges of the top-level members `rawMembers`.
    public static func parseTopObject(
        _ bytes: UnsafeRawBufferPointer, rawMembers: [String], limits: JSONLimits = .init()
    ) throws(JSONError) -> JSONObjectCapture {
        var i = 0
        while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
        guard i < bytes.count, bytes[i] == UInt8(ascii: "{") else {
            throw JSONError(offset: i, message: "expected an object")
        }
        guard case .object(let object) = try JSON.parse(bytes, limits: limits) else {
            throw JSONError(offset: i, message: "expected an object")
        }
        return JSONObjectCapture(object: object, rawRanges: rawMembers.map { topLevelValueRange(of: $0, in: bytes) })
    }

    public static func parseTopObject(
        _ bytes: [UInt8], rawMembers: [String], limits: JSONLimits = .init()
    ) throws(JSONError) -> JSONObjectCapture {
        try bytes.withUnsafeBytes { raw in
            Result { () throws(JSONError) in try parseTopObject(raw, rawMembers: rawMembers, limits: limits) }
        }.get()
    }
}

/// Where the value of the top-level member `name` lies in `text` (already parsed: valid JSON, no duplicate
/// member), from its first byte to its last; nil when absent. Skips values by brackets and strings only.
func topLevelValueRange(of name: String, in text: UnsafeRawBufferPointer) -> Range<Int>? {
    var i = 0, depth = 0
    func skipString() {  // i at the opening quote; leaves i after the closing one
        i += 1
        while i < text.count && text[i] != UInt8(ascii: "\"") { i += text[i] == UInt8(ascii: "\\") ? 2 : 1 }
        i += 1
    }
    func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
    while i < text.count {
        let b = text[i]
        if b == UInt8(ascii: "\"") {
            let start = i
            skipString()
            guard depth == 1, (try? JSON.parse(Array(text[start..<i])))?.stringValue == name else { continue }
            var j = i
            while isSpace(text[j]) { j += 1 }
            guard text[j] == UInt8(ascii: ":") else { continue }  // a string value, not a key
            j += 1
            while isSpace(text[j]) { j += 1 }
            i = j
            if text[i] == UInt8(ascii: "\"") {
                skipString()
            } else if text[i] == UInt8(ascii: "{") || text[i] == UInt8(ascii: "[") {
                var inner = 0
                repeat {
                    let c = text[i]
                    if c == UInt8(ascii: "\"") { skipString(); continue }
                    if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") { inner += 1 }
                    if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") { inner -= 1 }
                    i += 1
                } while inner > 0
            } else {
                while i < text.count && !isBareEnd(text[i]) { i += 1 }  // a number, true, false or null
            }
            return j..<i
        }
        if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") { depth += 1 }
        if b == UInt8(ascii: "}") || b == UInt8(ascii: "]") { depth -= 1 }
        i += 1
    }
    return nil
}

private func isBareEnd(_ b: UInt8) -> Bool {
    b == UInt8(ascii: ",") || b == UInt8(ascii: "}") || b == UInt8(ascii: "]") || b == 0x20 || b == 0x09
        || b == 0x0A || b == 0x0D
}
