import CircleJSON

/// One message from the server, read by member name with CircleJSON's scanner, so the order in which the server
/// writes members does not matter. Only the members the clients act on are noted; strings are built when asked for.
struct ServerMessage {
    let text: [UInt8]
    private var spans = Spans()

    /// Nil unless `text` is one valid JSON object.
    init?(_ text: [UInt8]) {
        self.text = text
        var spans = Spans()
        let valid = text.withUnsafeBytes { raw in
            (try? JSON.scanTopObject(raw) { member in spans.note(member, in: raw) }) != nil
        }
        guard valid else { return nil }
        self.spans = spans
    }

    /// Whether `type` is `name`.
    func isType(_ name: StaticString) -> Bool {
        guard let type = spans.type else { return false }
        return text.withUnsafeBytes { type.equals(name, in: $0) }
    }

    var type: String? { string(spans.type) }

    /// `seq`, when it is an exact integer.
    var seq: Int? {
        guard let seq = spans.seq else { return nil }
        return text.withUnsafeBytes { seq.intValue(in: $0) }
    }

    /// The bytes of a plain (escape-free ASCII) string member `from`: a sender's participant id.
    var from: ArraySlice<UInt8>? { plainBytes(spans.from) }

    /// The request number of an `id` of the form `c<n>` (the load clients' own).
    var request: Int? {
        guard let id = plainBytes(spans.id), id.first == UInt8(ascii: "c") else { return nil }
        return Self.digits(id.dropFirst()).flatMap { Int(exactly: $0) }
    }

    /// A signal payload's send time (``Probe/stampBase`` removed) and letter, if it is one of ours.
    var probe: (sentAt: UInt64, letter: Probe.Letter?)? {
        guard let payload = spans.payload else { return nil }
        return text.withUnsafeBytes { raw in
            let inner = UnsafeRawBufferPointer(rebasing: raw[payload.range])
            var t: JSONSpan?, k: JSONSpan?
            guard (try? JSON.scanTopObject(inner) { m in
                if m.key.equals("t", in: inner) { t = m.value } else if m.key.equals("k", in: inner) { k = m.value }
            }) != nil, let t, let stamp = Self.digits(inner[t.range]), stamp > Probe.stampBase
            else { return nil }
            var letter: Probe.Letter?
            if let k, k.isPlain, k.range.count == 3 { letter = Probe.Letter(rawValue: inner[k.range.lowerBound + 1]) }
            return (stamp - Probe.stampBase, letter)
        }
    }

    /// The members an event's handling reads; `participant` is the event's person: `speaker` in `floor_given` and
    /// `turn_ended` (protocol 2), `participant` elsewhere.
    var event: EventFields {
        EventFields(
            participant: string(spans.participant ?? spans.speaker), connection: string(spans.connection),
            phase: string(spans.phase),
            queue: spans.queue.flatMap { span in
                text.withUnsafeBytes { span.json(in: $0)?.arrayValue?.compactMap(\.stringValue) }
            })
    }

    /// An error's `code`.
    var code: String? { string(spans.code) }

    /// The whole message as a tree.
    func tree() -> JSON? { try? JSON.parse(text) }

    private func string(_ span: JSONSpan?) -> String? {
        guard let span else { return nil }
        return text.withUnsafeBytes { span.stringValue(in: $0) }
    }

    private func plainBytes(_ span: JSONSpan?) -> ArraySlice<UInt8>? {
        guard let span, span.isPlain else { return nil }
        return text[span.range.lowerBound + 1 ..< span.range.upperBound - 1]
    }

    /// The value of 1 to 19 decimal digits (a send time may exceed 2^53, which `intValue` refuses), else nil.
    static func digits<C: Collection<UInt8>>(_ bytes: C) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 19 else { return nil }
        var value: UInt64 = 0
        for b in bytes {
            guard b >= 0x30 && b <= 0x39 else { return nil }
            value = value * 10 + UInt64(b - 0x30)
        }
        return value
    }

    private struct Spans {
        var type, seq, from, id, payload, participant, speaker, connection, phase, queue, code: JSONSpan?

        mutating func note(_ member: JSONMemberSpan, in raw: UnsafeRawBufferPointer) {
            let key = member.key
            if key.equals("type", in: raw) { type = member.value }
            else if key.equals("seq", in: raw) { seq = member.value }
            else if key.equals("from", in: raw) { from = member.value }
            else if key.equals("id", in: raw) { id = member.value }
            else if key.equals("payload", in: raw) { payload = member.value }
            else if key.equals("participant", in: raw) { participant = member.value }
            else if key.equals("speaker", in: raw) { speaker = member.value }
            else if key.equals("connection", in: raw) { connection = member.value }
            else if key.equals("phase", in: raw) { phase = member.value }
            else if key.equals("queue", in: raw) { queue = member.value }
            else if key.equals("code", in: raw) { code = member.value }
        }
    }
}
