/// An append-only writer that builds compact JSON text directly, without an intermediate ``JSON`` tree.
///
/// Commas and colons are inserted automatically: a value or key is preceded by a comma unless the text so far is
/// empty or ends with `[`, `{` or `:` (the end of an opening bracket or a key). Complete JSON values never end with
/// those bytes, so this needs no state beyond `bytes` itself. The caller is responsible for balancing
/// `begin`/`end` calls and for writing a key before each object member.
///
/// ```swift
/// var w = JSONWriter()
/// w.beginObject(); w.key("type"); w.string("joined"); w.key("seq"); w.int(7); w.endObject()
/// // {"type":"joined","seq":7}
/// ```
public struct JSONWriter: Sendable {
    /// The text written so far.
    public var bytes: [UInt8]

    /// Creates an empty writer with room for `capacity` bytes.
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Opens an object (a value).
    public mutating func beginObject() {
        separate()
        bytes.append(Byte.openBrace)
    }

    /// Closes the innermost object.
    public mutating func endObject() { bytes.append(Byte.closeBrace) }

    /// Opens an array (a value).
    public mutating func beginArray() {
        separate()
        bytes.append(Byte.openBracket)
    }

    /// Closes the innermost array.
    public mutating func endArray() { bytes.append(Byte.closeBracket) }

    /// Writes an object member's key and colon.
    public mutating func key(_ k: StaticString) {
        separate()
        appendLiteral(k)
        bytes.append(Byte.colon)
    }

    /// Writes an object member's key and colon.
    public mutating func key(_ k: String) {
        separate()
        jsonEscape(k, into: &bytes)
        bytes.append(Byte.colon)
    }

    /// Writes a string value, escaped.
    public mutating func string(_ s: String) {
        separate()
        jsonEscape(s, into: &bytes)
    }

    /// Writes a string value, escaped (a constant: the same bytes as ``string(_:)-(String)`` writes for it).
    public mutating func string(_ s: StaticString) {
        separate()
        appendLiteral(s)
    }

    /// Appends a constant as a JSON string literal: copied between quotes in one append when it needs no escape
    /// (the usual case for keys and wire names), else escaped.
    @inline(__always)
    private mutating func appendLiteral(_ s: StaticString) {
        s.withUTF8Buffer { utf8 in
            let raw = UnsafeRawBufferPointer(utf8)
            if ByteScan.needsNoEscape(raw) {
                bytes.append(Byte.quote)
                bytes.appendBytes(raw)
                bytes.append(Byte.quote)
            } else {
                jsonEscape(utf8: raw, into: &bytes)
            }
        }
    }

    /// Writes a number (see ``jsonNumber(_:into:)``: NaN and infinities become `null`).
    public mutating func number(_ d: Double) {
        separate()
        jsonNumber(d, into: &bytes)
    }

    /// Writes an integer exactly.
    public mutating func int(_ i: Int) {
        separate()
        jsonInteger(i, into: &bytes)
    }

    /// Writes `true` or `false`.
    public mutating func bool(_ b: Bool) {
        separate()
        bytes.appendLiteral(b ? "true" : "false")
    }

    /// Writes `null`.
    public mutating func null() {
        separate()
        bytes.appendLiteral("null")
    }

    /// Writes bytes that already form one complete, valid JSON value (for example a payload captured by
    /// ``JSON/parseTopObject(_:rawMembers:limits:)-(UnsafeRawBufferPointer,_,_)``), as they are.
    public mutating func raw(_ json: [UInt8]) {
        precondition(!json.isEmpty, "JSONWriter.raw needs a complete JSON value")
        separate()
        bytes.append(contentsOf: json)
    }

    /// Writes bytes that already form one complete, valid JSON value, as they are.
    public mutating func raw(_ json: UnsafeRawBufferPointer) {
        precondition(!json.isEmpty, "JSONWriter.raw needs a complete JSON value")
        separate()
        bytes.appendBytes(json)
    }

    /// Writes a ``JSON`` tree.
    public mutating func value(_ json: JSON) {
        separate()
        json.serialize(into: &bytes)
    }

    /// Appends a comma if what came before ended a value.
    @inline(__always)
    private mutating func separate() {
        if needsSeparator { bytes.append(Byte.comma) }
    }

    /// Whether a value or key written now must be preceded by a comma: the text so far is not empty and does not
    /// end with `[`, `{` or `:`.
    private var needsSeparator: Bool {
        guard let last = bytes.last else { return false }
        return last != Byte.openBracket && last != Byte.openBrace && last != Byte.colon
    }
}
