/// One message a load client sends, built as JSON text up front. A message that carries its send time holds a
/// fixed-width field of zeros at `stampOffset`, filled in when the message actually leaves (after the pacer).
struct Outgoing {
    /// What the message is, for correlating its effects.
    enum Kind: UInt8 {
        case other, reaction, media, signal, control, fanout
    }

    /// Digits of a stamped send time: 10^18 plus the nanoseconds of the monotonic clock, so that the number has
    /// no leading zero (JSON forbids one) and fits an Int64.
    static let stampDigits = 19
    static let stampBase: UInt64 = 1_000_000_000_000_000_000

    var text: [UInt8]
    var stampOffset = -1
    var request = 0
    var kind = Kind.other

    /// Writes `stampBase + value` as `stampDigits` decimal digits at `offset`.
    static func stamp(_ text: inout [UInt8], at offset: Int, _ value: UInt64) {
        var v = stampBase + value
        var i = offset + stampDigits - 1
        while i >= offset {
            text[i] = 0x30 + UInt8(v % 10)
            v /= 10
            i -= 1
        }
    }

    /// A command with an optional request id: `{"type":"<type>","id":"c<n>"` followed by `fields` (already JSON,
    /// each starting with a comma) and `}`.
    static func command(_ type: String, request: Int, fields: String = "", kind: Kind = .control) -> Outgoing {
        var s = #"{"type":""# + type + #"""#
        if request > 0 { s += #","id":"c\#(request)""# }
        s += fields + "}"
        return Outgoing(text: Array(s.utf8), request: request, kind: kind)
    }

    /// A `signal` to one participant or (`to == nil`) to everyone, with a payload object that starts with the
    /// stamped send time and a one-letter kind: `{"t":<19 digits>,"k":"<k>"` then `rest` then `}`.
    static func signal(to: String?, kind k: Character, rest: String, request: Int = 0, kind: Kind = .signal) -> Outgoing {
        var s = #"{"type":"signal""#
        if request > 0 { s += #","id":"c\#(request)""# }
        s += to.map { #","to":""# + $0 + #"""# } ?? #","to_all":true"#
        s += #","payload":{"t":"#
        let offset = s.utf8.count
        s += String(repeating: "0", count: stampDigits) + #","k":""# + String(k) + #"""# + rest + "}}"
        return Outgoing(text: Array(s.utf8), stampOffset: offset, request: request, kind: kind)
    }

    /// Filler text of `count` characters that needs no JSON escaping.
    static func filler(_ count: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789 ".utf8)
        return String(decoding: (0..<max(0, count)).map { alphabet[$0 % alphabet.count] }, as: UTF8.self)
    }
}
