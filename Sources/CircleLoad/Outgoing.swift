import CircleJSON
import CircleProtocol
import CircleRoom

/// One message a load client sends: a room command, encoded by CircleProtocol when it leaves. A probe (a `signal`
/// that carries its send time) is stamped at that moment, after any wait in the pacer.
struct Outgoing {
    /// What the message is, for correlating its effects.
    enum Kind: UInt8 {
        case other, reaction, media, signal, control, fanout
    }

    enum Body {
        case command(Command)
        case probe(Probe)
    }

    var body: Body
    /// The request number (sent as `"c<n>"`); 0: none.
    var request = 0
    var kind = Kind.control

    /// A command.
    static func command(_ command: Command, request: Int, kind: Kind = .control) -> Outgoing {
        Outgoing(body: .command(command), request: request, kind: kind)
    }

    /// A probe to one participant or (`to == nil`) to everyone.
    static func probe(to: ParticipantID?, _ letter: Probe.Letter, _ members: [Probe.Member], request: Int = 0,
                      kind: Kind = .signal) -> Outgoing {
        let target = to.map { SignalTarget.participant($0) } ?? .everyone
        let probe = Probe(to: target, letter: letter, members: members)
        return Outgoing(body: .probe(probe), request: request, kind: kind)
    }

    /// The text to send at `now`.
    func encoded(now: UInt64) -> [UInt8] {
        let command: Command
        switch body {
        case .command(let c): command = c
        case .probe(let probe): command = .signal(to: probe.to, payload: probe.payload(stamp: now))
        }
        return WireProtocol.encode(ClientRequest(id: request > 0 ? "c\(request)" : nil, command: command))
    }

    /// Filler text of `count` characters that needs no JSON escaping.
    static func filler(_ count: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789 ".utf8)
        return String(decoding: (0..<max(0, count)).map { alphabet[$0 % alphabet.count] }, as: UTF8.self)
    }
}

/// A signal's payload as the load clients write it: `{"t":<send time>,"k":"<letter>", …members}`.
struct Probe {
    /// What the signal stands for in a WebRTC negotiation.
    enum Letter: UInt8 {
        case offer = 0x6F, answer = 0x61, candidate = 0x69  // o, a, i

        var text: StaticString {
            switch self {
            case .offer: "o"
            case .answer: "a"
            case .candidate: "i"
            }
        }
    }

    enum Member {
        case string(StaticString, String)
        case int(StaticString, Int)
    }

    /// A send time is written as 10^18 plus the monotonic clock's nanoseconds: always 19 digits, so a message's
    /// size does not depend on when it leaves.
    static let stampBase: UInt64 = 1_000_000_000_000_000_000

    var to: SignalTarget
    var letter: Letter
    var members: [Member]

    func payload(stamp now: UInt64) -> [UInt8] {
        var w = JSONWriter(capacity: 64)
        w.beginObject()
        w.key("t")
        w.int(Int(Self.stampBase + now))
        w.key("k")
        w.string(letter.text)
        for member in members {
            switch member {
            case .string(let key, let value): w.key(key); w.string(value)
            case .int(let key, let value): w.key(key); w.int(value)
            }
        }
        w.endObject()
        return w.bytes
    }
}
