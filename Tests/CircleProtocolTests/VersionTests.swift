@testable import CircleProtocol
import CircleJSON
import CircleRoom
import Testing

/// Protocol 2: the welcome says which version the server speaks, and every version 1 name a client may still send
/// is read as its version 2 name, in the decoder (PROTOCOL.md "Versions").
@Suite struct VersionTests {
    /// Version 1 messages and the version 2 messages they stand for: at least one for each ``ProtocolAlias``. The
    /// version 2 text is exactly what the client encoder writes for the decoded command.
    static let v1ToV2: [(v1: String, v2: String)] = [
        (#"{"type":"set_queue_policy","id":"a","policy":"least_spoken"}"#,
         #"{"type":"set_queue_policy","id":"a","queue_policy":"least_spoken"}"#),
        (#"{"policy":"fifo","type":"set_queue_policy"}"#, #"{"type":"set_queue_policy","queue_policy":"fifo"}"#),
        (#"{"type":"set_phase","id":"b","phase":"ended"}"#, #"{"type":"end_session","id":"b"}"#),
        (#"{"type":"set_phase","phase":"\u0065nded"}"#, #"{"type":"end_session"}"#),
    ]

    @Test(arguments: v1ToV2)
    func aVersion1NameDecodesAsItsVersion2Name(_ v1: String, _ v2: String) throws {
        let old = try Wire.decode(v1).get()
        #expect(try Wire.decode(v2).get() == old)
        #expect(String(decoding: WireProtocol.encode(old), as: UTF8.self) == v2)
    }

    /// A new alias in the table needs a sample above (and a line in PROTOCOL.md's table).
    @Test func everyAliasHasASample() {
        for alias in ProtocolAlias.all {
            let covered: Bool
            switch alias {
            case .field(let kind, let v1, let v2):
                covered = Self.v1ToV2.contains {
                    $0.v1.contains(#""type":"\#(kind.rawValue)""#) && $0.v1.contains(#""\#(v1.name)":"#)
                        && $0.v2.contains(#""\#(v2.name)":"#) && !$0.v2.contains(#""\#(v1.name)":"#)
                }
            case .command(let kind, let field, let value, let becomes):
                covered = Self.v1ToV2.contains {
                    $0.v1.contains(#""type":"\#(kind.rawValue)""#) && $0.v1.contains(#""\#(field.name)":"\#(value)""#)
                        && $0.v2.contains(#""type":"\#(becomes.rawValue)""#)
                }
            }
            #expect(covered, "no sample for \(alias)")
        }
    }

    @Test func bothNamesOfOneFieldAreInvalid() {
        let text = #"{"type":"set_queue_policy","id":"c","queue_policy":"fifo","policy":"least_spoken"}"#
        #expect(throws: DecodeFailure(
            id: "c", code: .invalid, message: "`policy` is the version 1 name of `queue_policy`: send one")) {
            try Wire.decode(text).get()
        }
    }

    /// Only `ended` makes a `set_phase` an `end_session`; the other phases stay what they were.
    @Test func setPhaseToAnotherPhaseIsNotAnAlias() throws {
        #expect(try Wire.decode(#"{"type":"set_phase","phase":"close"}"#).get().command == .setPhase(.close))
        #expect(throws: DecodeFailure.self) { try Wire.decode(#"{"type":"set_phase","phase":"Ended"}"#).get() }
    }

    @Test func everyWelcomeSaysWhichVersion() throws {
        #expect(WireProtocol.version == 2)
        var welcomes = 0
        for message in Samples.outbound where message.wireName == "welcome" {
            #expect(try Wire.object(message)["protocol"] == 2)
            welcomes += 1
        }
        #expect(welcomes == 5, "four joined welcomes and the waiting one")
        #expect(Wire.text(.waitingForFacilitator(participant: "m1", role: .member))
            == #"{"type":"welcome","protocol":2,"state":"waiting_for_facilitator","participant":"m1","role":"member"}"#)
    }
}
