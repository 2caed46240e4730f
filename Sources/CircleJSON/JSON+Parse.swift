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
}
