import CircleProtocol
import CircleRoom
import Foundation
import Testing

/// The JSON Schemas in Docs/schema match what the encoder writes and what the decoder accepts, checked by the same
/// validator script developers run (Tests/schema/validate.py).
@Suite struct SchemaTests {
    /// The message types that have a schema in `direction`.
    static func schemaTypes(_ direction: String) throws -> Set<String> {
        let directory = SchemaValidator.packageRoot.appendingPathComponent("Docs/schema")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        let prefix = direction + ".", suffix = ".json"
        return Set(names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(suffix) }
            .map { String($0.dropFirst(prefix.count).dropLast(suffix.count)) })
    }

    static func expectAllPass(_ outcome: SchemaValidator.Outcome, count: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(outcome.exitCode == 0, "\(outcome.output)", sourceLocation: sourceLocation)
        #expect(outcome.output.hasSuffix("\(count) passed, 0 failed\n"), "\(outcome.output)", sourceLocation: sourceLocation)
    }

    @Test func everyOutboundMessageMatchesItsSchema() throws {
        let lines = Samples.outbound.map(Wire.text)
        Self.expectAllPass(try SchemaValidator.run(direction: "server", lines: lines), count: lines.count)
        // Every server schema is exercised, and every message type has a schema.
        #expect(Set(Samples.outbound.map(\.wireName)) == (try Self.schemaTypes("server")))
    }

    @Test func everyClientCommandSampleMatchesItsSchema() throws {
        var lines = DecodeCommandTests.samples.map(\.0)
        // The client encoding, with a request id, too.
        lines += DecodeCommandTests.samples.map { String(decoding: WireProtocol.encode(ClientRequest(id: "r-1", command: $0.1)), as: UTF8.self) }
        Self.expectAllPass(try SchemaValidator.run(direction: "client", lines: lines), count: lines.count)
        #expect(Set(DecodeCommandTests.samples.map(\.1.wireName)) == (try Self.schemaTypes("client")))
    }

    /// The validator is not vacuous: broken messages fail, one failure line each.
    @Test func brokenServerMessagesFail() throws {
        let lines = [
            #"{"type":"phase_changed","seq":3}"#,                                    // missing phase
            #"{"type":"phase_changed","phase":"intro"}"#,                            // missing seq
            #"{"type":"phase_changed","seq":3,"phase":"lunch"}"#,                    // unknown phase
            #"{"type":"ack"}"#,                                                      // missing id
            #"{"type":"error","id":"r","code":"oops","message":"m"}"#,              // unknown code
            #"{"type":"signal","payload":{}}"#,                                      // missing from
            #"{"type":"welcome","participant":"m","role":"member","seq":1,"resumed":false,"time_left":{}}"#,  // no catch-up
            #"{"type":"participant_joined","seq":1,"participant":"m","name":"n","role":"member","connection":"connected","mic":true,"camera":true}"#,  // missing muted
            #"{"type":"lock_changed","seq":1,"locked":true,"by":"f"}"#,              // unknown field
            #"{"type":"no_such_message"}"#,                                          // unknown type
            #"["type","ack"]"#,                                                      // not an object
            #"{"type":"ack","id":"r""#,                                              // not JSON
        ]
        let outcome = try SchemaValidator.run(direction: "server", lines: lines)
        #expect(outcome.exitCode == 1)
        #expect(outcome.output.hasSuffix("0 passed, \(lines.count) failed\n"), "\(outcome.output)")
    }

    /// What the decoder refuses for its shape, the client schemas refuse too (nesting depth and byte lengths are
    /// the decoder's alone).
    @Test func decoderRejectsAreSchemaRejects() throws {
        let lines = [
            #"{"type":"raise_hand","extra":1}"#,
            #"{"type":"mute"}"#,
            #"{"type":"mute","participant":7}"#,
            #"{"type":"signal","to":"m2"}"#,
            #"{"type":"signal","payload":{}}"#,
            #"{"type":"signal","to":"m2","to_all":true,"payload":{}}"#,
            #"{"type":"signal","to_all":false,"payload":{}}"#,
            #"{"type":"media"}"#,
            #"{"type":"reaction","kind":"boo"}"#,
            #"{"type":"start_silence","silence_ms":-1}"#,
            #"{"type":"start_silence","silence_ms":1.5}"#,
            #"{"type":"set_pacing","turn_length_ms":null,"nudge_before_ms":0,"auto_advance":true}"#,
            #"{"type":"move_in_queue","participant":"m","position":-1}"#,
            #"{"type":"lock","id":""}"#,
            #"{"type":"lock","id":"\#(String(repeating: "x", count: 65))"}"#,
            #"{"type":"lock","id":5}"#,
            #"{"type":"welcome"}"#,
        ]
        for line in lines { #expect(Wire.failure(line) != nil) }
        let outcome = try SchemaValidator.run(direction: "client", lines: lines)
        #expect(outcome.exitCode == 1)
        #expect(outcome.output.hasSuffix("0 passed, \(lines.count) failed\n"), "\(outcome.output)")
    }

    /// Every example in Docs/PROTOCOL.md is a valid message: client examples decode and match their schema, server
    /// examples match theirs. Examples live in fenced blocks tagged `json client` or `json server`, one per line.
    @Test func documentationExamplesAreValid() throws {
        let text = try String(contentsOf: SchemaValidator.packageRoot.appendingPathComponent("Docs/PROTOCOL.md"), encoding: .utf8)
        var examples: [String: [String]] = ["client": [], "server": []]
        var direction: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if let current = direction {
                if trimmed == "```" { direction = nil } else if !trimmed.isEmpty { examples[current]!.append(trimmed) }
            } else if trimmed == "```json client" {
                direction = "client"
            } else if trimmed == "```json server" {
                direction = "server"
            }
        }
        let client = examples["client"]!, server = examples["server"]!
        for line in client { _ = Wire.request(line) }
        Self.expectAllPass(try SchemaValidator.run(direction: "client", lines: client), count: client.count)
        Self.expectAllPass(try SchemaValidator.run(direction: "server", lines: server), count: server.count)
        // Every message type is documented with an example.
        #expect(Set(client.compactMap(Self.type)) == (try Self.schemaTypes("client")))
        #expect(Set(server.compactMap(Self.type)) == (try Self.schemaTypes("server")))
    }

    static func type(of line: String) -> String? {
        guard let data = line.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object["type"] as? String
    }
}
