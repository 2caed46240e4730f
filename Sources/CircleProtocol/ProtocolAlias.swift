/// The version 1 names the server still accepts from clients (PROTOCOL.md "Versions"), each read as its version 2
/// name here, in the decoder, before the command is built: the room never sees which one a client used. This is
/// the one table of them; events and the welcome use version 2 names only.
enum ProtocolAlias: Sendable {
    /// In `command`, the member `v1` is read as `v2` (sending both is `invalid`).
    case field(CommandKind, v1: Field, v2: Field)
    /// `command` whose `field` is the string `value` is the command `becomes` (`field` is consumed).
    case command(CommandKind, Field, value: StaticString, becomes: CommandKind)

    /// Every alias, old → new.
    static let all: [ProtocolAlias] = [
        // queue_changed and the snapshot say `queue_policy`; so does the command now.
        .field(.setQueuePolicy, v1: .policy, v2: .queuePolicy),
        // The session ends only by `end_session`.
        .command(.setPhase, .phase, value: "ended", becomes: .endSession),
    ]

    /// The version 2 command of a message of `kind`, its `fields` renamed to their version 2 names.
    static func resolve(_ kind: CommandKind, _ fields: inout MessageFields) throws(FieldError) -> CommandKind {
        var kind = kind
        for alias in all {
            switch alias {
            case .field(let command, let v1, let v2):
                guard command == kind, fields.span(v1) != nil else { continue }
                guard fields.span(v2) == nil else {
                    throw FieldError(message: "`\(v1.name)` is the version 1 name of `\(v2.name)`: send one")
                }
                fields.rename(v1, to: v2)
            case .command(let command, let field, let value, let becomes):
                guard command == kind, fields.span(field)?.equals(value, in: fields.text) == true else { continue }
                fields.remove(field)
                kind = becomes
            }
        }
        return kind
    }
}
