// Large adversarial inputs, timed (fuzz inputs stay small, so cost that grows faster than the input hides from the
// fuzzers). Each case is timed against a baseline of about the same bytes in their easiest shape; the ratio is what
// to watch: a case whose ratio grows as it doubles costs more than linear time.
//
// The snapshot cases (SnapshotBench.swift) time the room snapshot encoder against the `Codable` one it replaced:
// there the ratio is the speed-up's inverse.
//
//   Scripts/fuzz --bench            # every case
//   Scripts/fuzz --bench websocket  # the cases whose name starts with a word
import CircleHTTP
import CircleJSON
import CircleProtocol
import CircleWebSocket
import Glibc

@main
struct Bench {
    static func main() {
        let filter = CommandLine.arguments.dropFirst().first
        print("case".padding(50) + "bytes".padding(10, left: true) + "time".padding(12, left: true)
              + "baseline".padding(12, left: true) + "ratio".padding(8, left: true))
        for c in cases() where filter.map({ c.name.hasPrefix($0) }) ?? true {
            c.run()
        }
    }

    static func cases() -> [Case] {
        var out: [Case] = []
        // Many tiny WebSocket fragments: one text message in 16-byte frames, against the same payload in one frame.
        let big = WebSocketLimits(maxFrameSize: 16 << 20, maxMessageSize: 16 << 20)
        for kib in [64, 128, 256, 512, 1024] {
            let payload = [UInt8](repeating: UInt8(ascii: "a"), count: kib << 10)
            let fragments = clientFrames(payload, fragment: 16)
            let whole = clientFrames(payload, fragment: payload.count)
            out.append(Case("websocket \(kib) KiB in 16-byte frames", fragments.count) {
                feed(fragments, limits: big, read: 65536)
            } baseline: { feed(whole, limits: big, read: 65536) })
        }
        for kib in [256, 1024] {
            let payload = [UInt8](repeating: UInt8(ascii: "a"), count: kib << 10)
            let frames = clientFrames(payload, fragment: 125)
            out.append(Case("websocket \(kib) KiB in 125-byte frames, 1-byte reads", frames.count) {
                feed(frames, limits: big, read: 1)
            } baseline: { feed(frames, limits: big, read: 65536) })
        }
        // JSON: long numbers, long strings with escapes, deep nesting, wide objects; baseline a plain string.
        // The parser recurses once per level: 1000 is as deep as it is meant to go (JSONLimits).
        let loose = JSONLimits(maxDepth: 1000, maxStringBytes: 64 << 20, maxMembers: 10_000_000)
        for kib in [64, 256, 1024] {
            let n = kib << 10
            let baseline = plainString(n)
            let json: [(String, [UInt8])] = [
                ("json integer of \(kib)K digits", Array(("1" + String(repeating: "0", count: n - 1)).utf8)),
                ("json fraction of \(kib)K digits", Array(("0." + String(repeating: "1", count: n - 2)).utf8)),
                ("json exponent of \(kib)K digits", Array(("1e" + String(repeating: "0", count: n - 3) + "1").utf8)),
                ("json string of \(kib)K \\u escapes",
                 Array(("\"" + String(repeating: "\\u00e9", count: n / 6) + "\"").utf8)),
                ("json arrays nested 500 deep, \(kib)K of them", nested(n)),
                ("json object of \(kib / 8)K members", object(members: n / 8)),
            ]
            for (name, text) in json {
                out.append(Case(name, text.count) { _ = try? JSON.parse(text, limits: loose) } baseline: {
                    _ = try? JSON.parse(baseline, limits: loose)
                })
            }
        }
        // The request decoder: a signal whose 120 KiB payload is all structure, against one holding a plain string.
        let structured = Array((#"{"type":"signal","to_all":true,"payload":["#
            + String(repeating: "[1,{\"a\":-0.5e3}],", count: 7_000)
            + #"0]}"#).utf8)
        let flat = Array((#"{"type":"signal","to_all":true,"payload":""#
            + String(repeating: "a", count: structured.count - 44)
            + #""}"#).utf8)
        out.append(Case("protocol signal of 120 KiB structure", structured.count) {
            _ = WireProtocol.decode(structured)
        } baseline: { _ = WireProtocol.decode(flat) })
        // Huge HTTP heads (limits raised so they parse), one byte per read against the head in one read.
        let loosely = HTTPLimits(maxHeadBytes: 64 << 20, maxHeaderCount: 1 << 20, maxLineBytes: 64 << 20)
        for kib in [64, 1024] {
            let manyFields = head(fields: (kib << 10) / 32, valueBytes: 20)
            let longLine = head(fields: 1, valueBytes: kib << 10)
            out.append(Case("http head of \(kib) KiB in 32-byte fields, 1-byte reads", manyFields.count) {
                parseHead(manyFields, loosely, read: 1)
            } baseline: { parseHead(manyFields, loosely, read: manyFields.count) })
            out.append(Case("http head of one \(kib) KiB field, 1-byte reads", longLine.count) {
                parseHead(longLine, loosely, read: 1)
            } baseline: { parseHead(longLine, loosely, read: longLine.count) })
        }
        out += snapshotCases()
        return out
    }
}

/// One timed input and its baseline: the best of a few runs each (fewer when a run is slow).
struct Case {
    let name: String
    let bytes: Int
    let body: () -> Void
    let baseline: () -> Void

    init(_ name: String, _ bytes: Int, _ body: @escaping () -> Void, baseline: @escaping () -> Void) {
        self.name = name
        self.bytes = bytes
        self.body = body
        self.baseline = baseline
    }

    func run() {
        let (t, b) = Self.best(body, baseline)
        let ratio = b > .zero ? t / b : 0
        print(name.padding(50) + "\(bytes)".padding(10, left: true) + Self.format(t).padding(12, left: true)
              + Self.format(b).padding(12, left: true)
              + (ratio < 1 ? String(format2: ratio) : String(format1: ratio)).padding(8, left: true))
        fflush(nil)  // each line as soon as it is measured
    }

    /// The best of a few runs of each, in turns (so a slower stretch of a shared machine hits both).
    static func best(_ body: () -> Void, _ baseline: () -> Void) -> (Duration, Duration) {
        let clock = ContinuousClock()
        var best = (Duration.seconds(1_000_000), Duration.seconds(1_000_000))
        var spent = Duration.zero
        for _ in 0..<5 {
            let t = clock.measure(body), b = clock.measure(baseline)
            best = (min(best.0, t), min(best.1, b))
            spent += t + b
            if spent > .seconds(4) { break }
        }
        return best
    }

    static func format(_ d: Duration) -> String {
        let ms = Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15
        return ms >= 1 ? String(format1: ms) + " ms" : String(format1: ms * 1e3) + " us"
    }
}

/// A text message as a client sends it: masked frames of `fragment` payload bytes.
func clientFrames(_ payload: [UInt8], fragment: Int) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(payload.count + payload.count / max(fragment, 1) * 8 + 16)
    var at = 0
    repeat {
        let end = min(payload.count, at + fragment)
        WebSocketFrame.encode(opcode: at == 0 ? .text : .continuation, payload: Array(payload[at..<end]),
                              fin: end == payload.count, maskKey: (1, 2, 3, 4), into: &out)
        at = end
    } while at < payload.count
    return out
}

/// Feeds a frame stream to a server codec in reads of `read` bytes; it must deliver one message.
func feed(_ stream: [UInt8], limits: WebSocketLimits, read: Int) {
    var codec = WebSocketCodec(role: .server, limits: limits)
    var messages = 0
    stream.withUnsafeBytes { bytes in
        var at = 0
        while at < bytes.count {
            let end = min(bytes.count, at + read)
            codec.receive(UnsafeRawBufferPointer(rebasing: bytes[at..<end])) { if case .text = $0 { messages += 1 } }
            at = end
        }
    }
    precondition(messages == 1, "the benchmark stream did not decode")
}

/// An array of arrays nested 500 deep, `n` bytes in all.
func nested(_ n: Int) -> [UInt8] {
    let one = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
    return Array(("[" + Array(repeating: one, count: max(1, n / 1001)).joined(separator: ",") + "]").utf8)
}

func plainString(_ n: Int) -> [UInt8] { Array(("\"" + String(repeating: "a", count: n - 2) + "\"").utf8) }

func object(members: Int) -> [UInt8] {
    var text = "{"
    for i in 0..<members { text += (i > 0 ? "," : "") + "\"k\(i)\":\(i)" }
    return Array((text + "}").utf8)
}

func head(fields: Int, valueBytes: Int) -> [UInt8] {
    var text = "GET /rooms/r1 HTTP/1.1\r\nHost: localhost\r\n"
    let value = String(repeating: "v", count: valueBytes)
    for i in 0..<fields { text += "X-F\(i): \(value)\r\n" }
    return Array((text + "\r\n").utf8)
}

func parseHead(_ bytes: [UInt8], _ limits: HTTPLimits, read: Int) {
    var parser = HTTPHeadParser(limits: limits)
    var done = false
    bytes.withUnsafeBytes { raw in
        var at = 0
        while at < raw.count && !done {
            let end = min(raw.count, at + read)
            if case .complete = parser.feed(UnsafeRawBufferPointer(rebasing: raw[at..<end])) { done = true }
            at = end
        }
    }
    precondition(done, "the benchmark head did not parse")
}

extension String {
    func padding(_ width: Int, left: Bool = false) -> String {
        let pad = String(repeating: " ", count: max(0, width - count))
        return left ? pad + self : self + pad
    }

    /// One decimal place, without Foundation.
    init(format1 value: Double) {
        let tenths = (value * 10).rounded()
        self = "\(Int(tenths) / 10).\(abs(Int(tenths) % 10))"
    }

    /// Two decimal places (a ratio below 1), without Foundation.
    init(format2 value: Double) {
        let hundredths = Int((value * 100).rounded())
        self = "\(hundredths / 100)." + (abs(hundredths % 100) < 10 ? "0" : "") + "\(abs(hundredths % 100))"
    }
}
