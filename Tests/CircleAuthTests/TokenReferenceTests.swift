@testable import CircleAuth
import CircleCrypto
import CircleJSON
import CircleTestSupport
import Testing

/// A plain verifier (one copy of the token, a JSON parse of every header, the one-shot HMAC): the reference the
/// product's verifier must agree with on every input.
private struct ReferenceVerifier {
    let secret: [UInt8]
    let leeway: Int64

    func verify(_ token: String, room: String, now: Int64) -> Result<TokenClaims, TokenError> {
        Result { () throws(TokenError) in try check(token, room: room, now: now) }
    }

    private func check(_ token: String, room: String, now: Int64) throws(TokenError) -> TokenClaims {
        let length = token.utf8.count
        guard length > 0 else { throw .missing }
        guard length <= TokenVerifier.maxTokenBytes else { throw .malformed }
        let bytes = Array(token.utf8)
        let dot = UInt8(ascii: ".")
        guard let first = bytes.firstIndex(of: dot), let second = bytes[(first + 1)...].firstIndex(of: dot),
              !bytes[(second + 1)...].contains(dot), first > 0, second > first + 1
        else { throw .malformed }
        let segments = [bytes[..<first], bytes[(first + 1)..<second], bytes[(second + 1)...]]
        for segment in segments {
            guard segment.count % 4 != 1,
                segment.allSatisfy({ b in
                    (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D
                        || b == 0x5F
                })
            else { throw .malformed }
        }
        let header = try object(segments[0])
        guard let alg = header["alg"]?.stringValue else { throw .malformed }
        guard alg == "HS256" else { throw .unsupportedAlgorithm }
        if let typ = header["typ"] {
            guard let value = typ.stringValue, value.lowercased() == "jwt" else { throw .malformed }
        }
        guard header["crit"] == nil else { throw .malformed }
        guard let signature = Base64.decodeURL(segments[2]) else { throw .malformed }
        let expected = Crypto.hmacSHA256(key: secret, data: Array(bytes[..<second]))
        guard Crypto.constantTimeEqual(expected, signature) else { throw .badSignature }
        let claims = try TokenClaims(payload: try object(segments[1]))
        guard claims.room.utf8.elementsEqual(room.utf8) else { throw .wrongRoom }
        let (earliest, o1) = now.subtractingReportingOverflow(leeway)
        if !o1, claims.exp <= earliest { throw .expired }
        let (latest, o2) = now.addingReportingOverflow(leeway)
        if let nbf = claims.nbf, !o2, nbf > latest { throw .notYetValid }
        return claims
    }

    private func object(_ segment: ArraySlice<UInt8>) throws(TokenError) -> JSONObject {
        guard let json = Base64.decodeURL(segment),
            let value = try? JSON.parse(json, limits: JSONLimits(maxDepth: 8, maxStringBytes: 4096, maxMembers: 256)),
            case .object(let object) = value
        else { throw .malformed }
        return object
    }
}

/// The verifier gives the reference's answer on minted, damaged and random tokens, from any thread.
@Suite struct TokenReferenceTests {
    private let reference = ReferenceVerifier(secret: Fixture.secret, leeway: 0)

    private func agree(_ token: String, room: String = Fixture.room, now: Int64 = Fixture.now,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        let verified = Fixture.verifier.verify(token, room: room, now: now)
        let expected = reference.verify(token, room: room, now: now)
        #expect(verified == expected, "token \(Array(token.utf8))", sourceLocation: sourceLocation)
    }

    @Test func mintedTokensTakeTheKnownHeaderPath() throws {
        let token = TokenMinter.mint(Fixture.claims, secret: Fixture.secret)
        #expect(token.hasPrefix(TokenMinter.encodedHeader + "."))
        #expect(try Fixture.verify(token).get() == Fixture.claims)
        agree(token)
    }

    @Test func otherHeadersStillGetTheFullCheck() {
        for header in [
            #"{"typ":"JWT","alg":"HS256"}"#, #"{"alg":"HS256"}"#, #"{"alg":"HS256","typ":"jwt"}"#,
            #"{"alg":"HS256","typ":"JWS"}"#, #"{"alg":"HS256","crit":["x"]}"#, #"{"alg":"none"}"#,
            #" {"alg":"HS256","typ":"JWT"}"#, #"{"alg":"HS256","typ":"JWT"}x"#, #"{"alg":"HS256","alg":"HS256"}"#,
        ] {
            agree(Fixture.sign(header: header))
        }
    }

    @Test func signatureShapes() {
        let token = Fixture.sign()
        let input = token[..<token.lastIndex(of: ".")!]
        let mac = Crypto.hmacSHA256(key: Fixture.secret, data: Array(input.utf8))
        for signature in ["", "A", "AA", "AAA", "AAAA", Base64.encodeURL(mac.dropLast()), Base64.encodeURL(mac + [0]),
                          Base64.encodeURL(mac) + "A", String(Base64.encodeURL(mac).dropLast()) + "B",
                          String(Base64.encodeURL(mac).dropLast()) + "9",  // non-zero trailing bits: malformed
                          Base64.encodeURL(mac), String(repeating: "A", count: 4000)] {
            agree(input + "." + signature)
        }
    }

    /// Random damage to valid tokens — flipped, inserted, deleted and swapped bytes — is judged exactly as the
    /// reference judges it, including which error comes first.
    @Test func randomlyDamagedTokensAgreeWithTheReference() {
        var rng = SplitMix64(seed: 2026)
        let alphabet = Array("ABCxyz019-_.=+/ %\u{0}".utf8) + [0xC3, 0xA9]
        let seeds = [
            TokenMinter.mint(Fixture.claims, secret: Fixture.secret),
            Fixture.sign(header: #"{"typ":"JWT","alg":"HS256"}"#),
            Fixture.sign(payload: Fixture.payload(["nbf": "1700000100"])),
            Fixture.sign(payload: Fixture.payload(["room": #""other""#])),
            Fixture.sign(payload: Fixture.payload(["exp": "1699999999.5"])),
        ]
        for round in 0..<4000 {
            var bytes = Array(seeds[round % seeds.count].utf8)
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let i = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 4 {
                case 0: bytes[i] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: bytes.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: i)
                case 2: if bytes.count > 1 { bytes.remove(at: i) }
                default: bytes.swapAt(i, Int(rng.next() % UInt64(bytes.count)))
                }
            }
            agree(String(decoding: bytes, as: UTF8.self))
        }
        for seed in seeds { agree(seed); agree(seed, room: "r-43"); agree(seed, now: Fixture.now + 10_000) }
    }

    /// Every byte value in every segment (and in place of each dot) is judged as the reference judges it.
    @Test func everyByteValueInEverySegment() {
        let token = Array(TokenMinter.mint(Fixture.claims, secret: Fixture.secret).utf8)
        let dots = token.indices.filter { token[$0] == UInt8(ascii: ".") }
        for position in [0, 5, dots[0], dots[0] + 7, dots[1], dots[1] + 1, token.count - 1] {
            for value in UInt8.min...UInt8.max {
                var bytes = token
                bytes[position] = value
                agree(String(decoding: bytes, as: UTF8.self))
            }
        }
    }

    @Test func verifierSharedAcrossThreads() async {
        let token = TokenMinter.mint(Fixture.claims, secret: Fixture.secret)
        await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    (0..<300).allSatisfy { _ in (try? Fixture.verify(token).get()) == Fixture.claims }
                }
            }
            for await ok in group { #expect(ok) }
        }
    }
}
