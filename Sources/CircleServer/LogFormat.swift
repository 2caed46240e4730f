import CircleBytes
import CircleJSON
import Glibc
import Logging

/// Where log lines go. Must be thread-safe: a process may run several loops.
public protocol LogSink: Sendable {
    func write(line: [UInt8])
}

/// Standard error, one `write(2)` per line (atomic for lines under PIPE_BUF on pipes).
public struct StandardErrorSink: LogSink {
    public init() {}
    public func write(line: [UInt8]) {
        line.withUnsafeBytes { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}

/// The two log formats: readable text (default) and JSON lines.
public enum LogFormat: String, Sendable, CaseIterable {
    case text, json
}

/// A swift-log handler writing text or JSON lines.
///
/// Privacy: Circle logs ids, kinds, sizes, timings and errors — never payloads, display names, SDP or tokens. The
/// handler cannot know what a string means, so the rule is kept at the call sites: metadata values are always ids,
/// codes or numbers (see Docs/OPERATIONS.md), and tests capture the log of whole sessions to check it.
public struct CircleLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let format: LogFormat
    private let sink: any LogSink

    public init(label: String, format: LogFormat, sink: any LogSink = StandardErrorSink()) {
        self.label = label
        self.format = format
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let keys = merged.keys.sorted()
        var line: [UInt8] = []
        line.reserveCapacity(160)
        switch format {
        case .text:
            line.append(contentsOf: Self.timestamp().utf8)
            line.append(contentsOf: " \(event.level) \(label): ".utf8)
            Self.appendEscaped(event.message.description, to: &line)
            for k in keys {
                line.append(UInt8(ascii: " "))
                Self.appendEscaped(k, to: &line)
                line.append(UInt8(ascii: "="))
                Self.appendTextValue(merged[k]!.description, to: &line)
            }
        case .json:
            var w = JSONWriter(capacity: 160)
            w.beginObject()
            w.key("ts"); w.string(Self.timestamp())
            w.key("level"); w.string(event.level.rawValue)
            w.key("logger"); w.string(label)
            w.key("msg"); w.string(event.message.description)
            for k in keys { w.key(k); w.string(merged[k]!.description) }
            w.endObject()
            line = w.bytes
        }
        line.append(UInt8(ascii: "\n"))
        sink.write(line: line)
    }

    /// A text-format value: as it is when it is a non-empty run of visible characters other than `"`, `\\` and `=`;
    /// otherwise quoted, with `"` and `\\` escaped and control characters written as escapes, so that no value can
    /// end a line or start a field.
    static func appendTextValue(_ value: String, to line: inout [UInt8]) {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { c in
            c.value > 0x20 && c != "\"" && c != "\\" && c != "=" && !isControl(c)
        }
        if plain { return line.append(contentsOf: value.utf8) }
        line.append(UInt8(ascii: "\""))
        appendEscaped(value, to: &line, quote: true)
        line.append(UInt8(ascii: "\""))
    }

    /// Appends `text` with control characters as `\n`, `\r`, `\t` or `\u{XX}` escapes (and, inside quotes, `"`
    /// and `\\` escaped).
    static func appendEscaped(_ text: String, to line: inout [UInt8], quote: Bool = false) {
        for c in text.unicodeScalars {
            switch c {
            case "\n": line.append(contentsOf: "\\n".utf8)
            case "\r": line.append(contentsOf: "\\r".utf8)
            case "\t": line.append(contentsOf: "\\t".utf8)
            case "\"" where quote, "\\" where quote:
                line.append(UInt8(ascii: "\\"))
                line.append(UInt8(c.value))
            default:
                if isControl(c) {
                    line.append(contentsOf: "\\u{\(String(c.value, radix: 16))}".utf8)
                } else {
                    line.append(contentsOf: String(c).utf8)
                }
            }
        }
    }

    private static func isControl(_ c: Unicode.Scalar) -> Bool { ControlCharacters.contains(c) }

    /// UTC, ISO 8601 with milliseconds.
    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = ts.tv_sec
        var tm = Glibc.tm()
        gmtime_r(&t, &tm)
        func pad(_ v: Int32, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(tm.tm_year + 1900)-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2))T\(pad(tm.tm_hour, 2)):"
            + "\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2)).\(pad(Int32(ts.tv_nsec / 1_000_000), 3))Z"
    }
}
