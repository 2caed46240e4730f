extension JSON {
    /// Parses one JSON text strictly (RFC 8259), within `limits`.
    ///
    /// Rejected, each with a ``JSONError`` at the offending byte: comments, trailing commas, NaN/Infinity,
    /// leading zeros or '+', raw control characters or invalid UTF-8 in strings, lone surrogate escapes, whitespace
    /// other than space/tab/LF/CR, anything after the value but whitespace, numbers beyond the range of a double,
    /// duplicate keys in an object, and anything beyond `limits`.
    public static func parse(_ bytes: UnsafeRawBufferPointer, limits: JSONLimits = .init()) throws(JSONError) -> JSON {
        var parser = JSONParser(bytes, limits: limits)
        return try parser.parseDocument()
    }

    /// Parses one JSON text strictly; see ``parse(_:limits:)-(UnsafeRawBufferPointer,_)``.
    public static func parse(_ bytes: [UInt8], limits: JSONLimits = .init()) throws(JSONError) -> JSON {
        try bytes.withUnsafeBytes { raw in
            Result { () throws(JSONError) in try parse(raw, limits: limits) }
        }.get()
    }

    /// Parses one JSON text strictly; see ``parse(_:limits:)-(UnsafeRawBufferPointer,_)``.
    public static func parse(_ text: String, limits: JSONLimits = .init()) throws(JSONError) -> JSON {
        var text = text
        return try text.withUTF8 { utf8 in
            Result { () throws(JSONError) in try parse(UnsafeRawBufferPointer(utf8), limits: limits) }
        }.get()
    }

    /// Parses a JSON text that must be an object, and reports where the values of some top-level members lie in
    /// the input, so they can be relayed byte for byte without re-serializing.
    ///
    /// Every member, including those in `rawMembers`, is fully validated and present in the returned object.
    /// For each name in `rawMembers`, `rawRanges` (same order) holds the byte range of that member's value in
    /// `bytes` — from its first byte to its last, without surrounding whitespace — or nil if the member is absent.
    /// Only members of the top-level object are captured. A text that is not an object throws "expected an object".
    ///
    /// ```swift
    /// let message = try JSON.parseTopObject(buffer, rawMembers: ["payload"])
    /// if let range = message.rawRanges[0] { relay(buffer[range]) }
    /// ```
    public static func parseTopObject(
        _ bytes: UnsafeRawBufferPointer, rawMembers: [String], limits: JSONLimits = .init()
    ) throws(JSONError) -> JSONObjectCapture {
        var parser = JSONParser(bytes, limits: limits)
        parser.captureNames = rawMembers
        parser.captureRanges = Array(repeating: nil, count: rawMembers.count)
        let object = try parser.parseTopObject()
        return JSONObjectCapture(object: object, rawRanges: parser.captureRanges)
    }

    /// Parses a JSON object and captures member value ranges; see
    /// ``parseTopObject(_:rawMembers:limits:)-(UnsafeRawBufferPointer,_,_)``.
    public static func parseTopObject(
        _ bytes: [UInt8], rawMembers: [String], limits: JSONLimits = .init()
    ) throws(JSONError) -> JSONObjectCapture {
        try bytes.withUnsafeBytes { raw in
            Result { () throws(JSONError) in try parseTopObject(raw, rawMembers: rawMembers, limits: limits) }
        }.get()
    }
}

/// A parsed top-level object plus the input byte ranges of selected member values
/// (see ``JSON/parseTopObject(_:rawMembers:limits:)-(UnsafeRawBufferPointer,_,_)``).
public struct JSONObjectCapture: Sendable, Equatable {
    /// All members of the object, parsed.
    public var object: JSONObject
    /// For each requested member name, in request order, the byte range of its value in the input, or nil.
    public var rawRanges: [Range<Int>?]

    /// Creates a capture result.
    public init(object: JSONObject, rawRanges: [Range<Int>?]) {
        self.object = object
        self.rawRanges = rawRanges
    }
}
