import CircleJSON
import CircleServer
import Logging
import Testing

@Suite struct LogFormatTests {
    private func logged(_ format: LogFormat, _ body: (Logger) -> Void) -> [String] {
        let sink = CapturedLog()
        var logger = Logger(label: "circle") { label in CircleLogHandler(label: label, format: format, sink: sink) }
        logger.logLevel = .info
        body(logger)
        return sink.all
    }

    @Test func jsonLinesAreValidJSONWithTheMetadata() throws {
        let lines = logged(.json) { $0.info("join", metadata: ["room": "r1", "conn": "7"]) }
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.hasSuffix("\n"))
        let json = try JSON.parse(String(line.dropLast()))
        #expect(json["msg"]?.stringValue == "join")
        #expect(json["level"]?.stringValue == "info")
        #expect(json["room"]?.stringValue == "r1")
        #expect(json["conn"]?.stringValue == "7")
        #expect(json["ts"]?.stringValue?.hasSuffix("Z") == true)
    }

    @Test func textLinesAreOneLineEach() {
        let lines = logged(.text) {
            $0.info("listening", metadata: ["address": "127.0.0.1:8080"])
            $0.debug("not shown at info")
        }
        #expect(lines.count == 1)
        #expect(lines[0].contains(" info circle: listening address=127.0.0.1:8080\n"))
    }

    @Test func jsonEscapesQuotesAndNewlinesInValues() throws {
        let lines = logged(.json) { $0.error("accept failed", metadata: ["error": "a \"b\"\nc"]) }
        let json = try JSON.parse(String(lines[0].dropLast()))
        #expect(json["error"]?.stringValue == "a \"b\"\nc")
    }
}

/// Text-format values that could forge a line or a field are quoted and escaped.
@Suite struct LogTextEscapingTests {
    private func line(_ value: String) -> String {
        let sink = CapturedLog()
        let logger = Logger(label: "circle") { CircleLogHandler(label: $0, format: .text, sink: sink) }
        logger.info("join", metadata: ["participant": "\(value)"])
        return sink.all.first ?? ""
    }

    @Test func plainValuesStayBare() {
        #expect(line("p-1").hasSuffix(" info circle: join participant=p-1\n"))
    }

    @Test func valuesThatCouldForgeAreQuotedAndEscaped() {
        #expect(line("a\nlevel=critical x").hasSuffix(#"participant="a\nlevel=critical x""# + "\n"))
        #expect(line(#"q" x=y"#).hasSuffix(#"participant="q\" x=y""# + "\n"))
        #expect(line("a\u{1B}[2Jb\\").hasSuffix(#"participant="a\u{1b}[2Jb\\""# + "\n"))
        #expect(line("").hasSuffix(#"participant="""# + "\n"))
        for value in ["a\r\nb", "a\u{2028}b", "\u{85}"] {
            #expect(line(value).filter { $0 == "\n" || $0 == "\r" || $0 == "\u{2028}" || $0 == "\u{85}" } == "\n")
        }
    }
}
