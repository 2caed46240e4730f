extension JSONParser {
    /// Parses a number; `pos` is at `-` or a digit.
    ///
    /// The grammar is checked here; the value comes from `Double(String)` on the validated text, which rounds
    /// correctly. Integers of at most 15 digits (exact in a double) skip that conversion.
    ///
    /// With `validateOnly` (the skip mode) the value is not needed, only whether it is in range: a number without an
    /// exponent whose integer part has at most 300 digits is always finite, so its conversion is skipped (and 0
    /// returned); anything else is converted exactly as when parsing, so both modes reject the same numbers.
    mutating func parseNumber(validateOnly: Bool = false) throws(JSONError) -> Double {
        let start = pos
        let count = input.count
        var i = pos
        let negative = input[i] == Byte.minus
        if negative { i += 1 }
        guard i < count, isDigit(input[i]) else { throw fail("invalid number", at: i) }

        var integer: UInt64 = 0
        var digits = 0
        if input[i] == Byte.zero {
            i += 1
            if i < count, isDigit(input[i]) { throw fail("leading zero in number", at: start) }
        } else {
            while i < count, isDigit(input[i]) {
                integer = integer &* 10 &+ UInt64(input[i] - Byte.zero)
                digits += 1
                i += 1
            }
        }

        var isInteger = true
        var hasExponent = false
        if i < count, input[i] == Byte.dot {
            isInteger = false
            i += 1
            guard i < count, isDigit(input[i]) else { throw fail("invalid number", at: i) }
            while i < count, isDigit(input[i]) { i += 1 }
        }
        if i < count, input[i] == Byte.e || input[i] == Byte.upperE {
            isInteger = false
            hasExponent = true
            i += 1
            if i < count, input[i] == Byte.plus || input[i] == Byte.minus { i += 1 }
            guard i < count, isDigit(input[i]) else { throw fail("invalid number", at: i) }
            while i < count, isDigit(input[i]) { i += 1 }
        }
        pos = i

        if validateOnly && !hasExponent && digits <= 300 { return 0 }
        if isInteger && digits <= 15 {
            let magnitude = Double(integer)
            return negative ? -magnitude : magnitude
        }
        let text = string(input, start..<i)
        guard let value = Double(text), value.isFinite else { throw fail("number out of range", at: start) }
        return value
    }

    @inline(__always)
    private func isDigit(_ byte: UInt8) -> Bool { byte &- Byte.zero < 10 }
}
