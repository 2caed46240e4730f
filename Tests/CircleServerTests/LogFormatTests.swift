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
