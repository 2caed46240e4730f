/// The characters that could forge lines or fields wherever text is shown or logged: C0 controls, DEL, C1 controls
/// and the line and paragraph separators. Token claims refuse them; log lines escape them.
public enum ControlCharacters {
    /// Whether `c` is one of them.
    @inlinable
    public static func contains(_ c: Unicode.Scalar) -> Bool {
        c.value < 0x20 || (c.value >= 0x7F && c.value <= 0x9F) || c.value == 0x2028 || c.value == 0x2029
    }

    /// Whether `text` holds one of them.
    @inlinable
    public static func occur(in text: String) -> Bool {
        text.unicodeScalars.contains(where: contains)
    }
}
