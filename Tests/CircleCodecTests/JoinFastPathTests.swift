@testable import CircleCrypto
@testable import CircleHTTP
@testable import CircleWebSocket
import CircleTestSupport
import Testing

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

/// The fast paths of the join (query scan, header list scan, key check, 101 bytes, cached crypto) must answer
/// exactly as the general code they short-cut, hostile input included.
@Suite struct JoinFastPathTests {
    // MARK: queryItem

    private static let queryAlphabet: [Character] = ["a", "b", "=", "&", "%", "+", "2", "0", "4", "1", "C", "3", "A",
                                                     "9", "g", "_", "é", "\u{301}", "K", "\u{212A}", "~", "\r", "\n"]

    private static func randomQuery(_ rng: inout SplitMix64, asciiOnly: Bool) -> String {
        let alphabet = asciiOnly ? queryAlphabet.filter(\.isASCII) : queryAlphabet
        let length = Int(rng.next() % 24)
        return String((0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
    }

    @Test func queryScanMatchesTheCharacterSplit() {
        var rng = SplitMix64(seed: 42)
        let names = ["a", "b", "ab", "a b", "", "%", "é", "K", "\u{212A}", "a\u{301}", "access_token", "since"]
        for round in 0..<20_000 {
            let query = Self.randomQuery(&rng, asciiOnly: round % 2 == 0)
            let head = HTTPRequestHead(method: "GET", target: "/p?" + query)
            for name in names {
                // (`head.query`, not `query`: a leading combining mark joins the `?` and goes with it.)
                #expect(head.queryItem(name) == HTTPRequestHead.queryItemByCharacters(name, in: head.query ?? ""),
                        "query \(Array(query.utf8)) name \(name)")
            }
        }
    }

    @Test func queryItemHostileAndOrdinaryCases() {
        func item(_ query: String, _ name: String) -> String? {
            HTTPRequestHead(method: "GET", target: "/rooms/r?" + query).queryItem(name)
        }
        #expect(item("access_token=abc.def-_&since=4", "access_token") == "abc.def-_")
        #expect(item("access_token=abc&since=4", "since") == "4")
        #expect(item("since", "since") == "")
        #expect(item("since=", "since") == "")
        #expect(item("&&since=1&&", "since") == "1")
        #expect(item("since=1&since=2", "since") == "1")
        #expect(item("a=%41%42+c", "a") == "AB c")
        #expect(item("%61=x", "a") == "x")  // the name is decoded before comparing
        #expect(item("a+b=x", "a b") == "x")
        #expect(item("a=%", "a") == nil)
        #expect(item("a=%4", "a") == nil)
        #expect(item("a=%G1", "a") == nil)
        #expect(item("a=%C3", "a") == nil)  // invalid UTF-8 after decoding
        #expect(item("a=%C3%A9", "a") == "é")
        #expect(item("%=1&a=2", "a") == "2")  // a name with a bad escape never matches
        #expect(item("b=1", "a") == nil)
        #expect(HTTPRequestHead(method: "GET", target: "/rooms/r").queryItem("a") == nil)
        #expect(item("K=1", "\u{212A}") == "1")  // canonical equivalence, as String comparison has it
        #expect(item("%E2%84%AA=1", "K") == "1")
    }

    // MARK: header lists

    @Test func asciiListScanMatchesListElements() {
        var rng = SplitMix64(seed: 7)
        let alphabet: [Character] = ["u", "p", "U", ",", " ", "\t", "x", "é", "\u{301}"]
        let tokens = ["up", "UP", "u", "", "p,u", "upx", "é", "up\u{301}"]
        for round in 0..<20_000 {
            let chars = round % 2 == 0 ? alphabet.filter(\.isASCII) : alphabet
            let value = String((0..<Int(rng.next() % 12)).map { _ in chars[Int(rng.next() % UInt64(chars.count))] })
            let head = HTTPRequestHead(method: "GET", target: "/", headers: [HTTPHeader(name: "Connection", value: value)])
            for token in tokens {
                let general = HTTPSyntax.listElements(value).contains { HTTPSyntax.equalsIgnoringCase($0, token) }
                #expect(head.headerHasToken("connection", token) == general, "value \(Array(value.utf8)) token \(token)")
                if let fast = HTTPSyntax.asciiListContains(value, token) { #expect(fast == general) }
            }
        }
    }

    @Test func headerNamesCompareIgnoringASCIICaseOnly() {
        #expect(HTTPHeader.nameEquals("sec-websocket-key", "Sec-WebSocket-Key"))
        #expect(!HTTPHeader.nameEquals("Sec-WebSocket-Ke", "Sec-WebSocket-Key"))
        #expect(!HTTPHeader.nameEquals("Sec-WebSocket-Kez", "Sec-WebSocket-Key"))
        #expect(!HTTPHeader.nameEquals("[", "{"))  // 0x5B vs 0x7B: not letters, so not folded
        #expect(!HTTPHeader.nameEquals("É", "é"))
        let head = HTTPRequestHead(method: "GET", target: "/", headers: [
            HTTPHeader(name: "Host", value: "a"), HTTPHeader(name: "HOST", value: "b"), HTTPHeader(name: "Hostx", value: "c"),
        ])
        #expect(head.headerCount("host") == 2)
        #expect(head.headerCount("Origin") == 0)
    }

    // MARK: byte scans

    @Test func wordScansAgreeWithByteLoops() {
        var rng = SplitMix64(seed: 9)
        let interesting: [UInt8] = [0x00, 0x0A, 0x0D, 0x20, 0x21, 0x26, 0x3D, 0x7E, 0x7F, 0x80, 0xFF, 0x41, 0x61]
        for _ in 0..<20_000 {
            let bytes = (0..<Int(rng.next() % 40)).map { _ in
                rng.next() % 3 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : interesting[Int(rng.next() % UInt64(interesting.count))]
            }
            bytes.withUnsafeBytes { raw in
                #expect(ByteSearch.isASCII(raw) == bytes.allSatisfy { $0 < 0x80 })
                #expect(ByteSearch.isVisibleASCII(raw) == bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F })
                let from = bytes.isEmpty ? 0 : Int(rng.next() % UInt64(bytes.count))
                let to = from + Int(rng.next() % UInt64(bytes.count - from + 1))
                for target in interesting {
                    #expect(ByteSearch.firstIndex(of: target, in: raw, from: from, to: to)
                            == bytes[from..<to].firstIndex(of: target))
                }
            }
        }
    }

    // MARK: base64

    /// Base64 decoded the way Circle first did it, kept as an independent reference: a bit accumulator, symbol by
    /// symbol; the standard alphabet with `=` padding to a multiple of 4, base64url without padding; nil for a symbol
    /// outside the alphabet, a lone symbol past a whole group, or non-zero trailing bits.
    static func referenceDecode(_ text: [UInt8], url: Bool) -> [UInt8]? {
        let alphabet = Array(("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" + (url ? "-_" : "+/")).utf8)
        var symbols = text[...]
        if !url {
            guard text.count % 4 == 0 else { return nil }
            var padding = 0
            while let last = symbols.last, last == UInt8(ascii: "="), padding < 2 { symbols.removeLast(); padding += 1 }
        }
        if symbols.count % 4 == 1 { return nil }
        var out: [UInt8] = []
        var acc: UInt32 = 0
        var bits = 0
        for c in symbols {
            guard let v = alphabet.firstIndex(of: c) else { return nil }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
                acc &= (1 << UInt32(bits)) - 1
            }
        }
        return acc == 0 ? out : nil
    }

    @Test func decodedCountAgreesWithDecode() {
        var rng = SplitMix64(seed: 3)
        // Every symbol of both alphabets (so that each trailing-bit pattern occurs), padding, and bytes of neither.
        let symbols = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_. ".utf8)
        for _ in 0..<50_000 {
            let text = (0..<Int(rng.next() % 30)).map { _ in symbols[Int(rng.next() % UInt64(symbols.count))] }
            let expected = Self.referenceDecode(text, url: false)
            #expect(Base64.decode(text) == expected, "\(text)")
            #expect(text.withUnsafeBytes { Base64.decodedCount($0) } == expected?.count, "\(text)")
        }
        for length in 0..<40 {
            for _ in 0..<50 {
                let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                let text = Array(Base64.encode(bytes).utf8)
                #expect(text.withUnsafeBytes { Base64.decodedCount($0) } == length)
            }
        }
    }

    @Test func decodeURLIntoABufferAgreesWithDecodeURL() {
        var rng = SplitMix64(seed: 5)
        let symbols = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=.".utf8)
        for round in 0..<50_000 {
            let text: [UInt8]
            if round % 2 == 0 {
                text = (0..<Int(rng.next() % 30)).map { _ in symbols[Int(rng.next() % UInt64(symbols.count))] }
            } else {
                text = Array(Base64.encodeURL((0..<Int(rng.next() % 40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }).utf8)
            }
            let expected = Self.referenceDecode(text, url: true)
            #expect(Base64.decodeURL(text) == expected, "\(text)")
            var out = [UInt8](repeating: 0xEE, count: text.count * 3 / 4)
            let count = text.withUnsafeBytes { t in out.withUnsafeMutableBytes { Base64.decodeURL(t, into: $0) } }
            #expect(count == expected?.count, "\(text)")
            if let count, let expected { #expect(Array(out[..<count]) == expected) }
        }
    }

    // MARK: crypto

    @Test func sha1Vectors() {
        #expect(hex(Crypto.sha1(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hex(Crypto.sha1([UInt8]())) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(hex(Crypto.sha1(long)) == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(hex(Crypto.sha1(long[3...])) == hex(Crypto.sha1(Array(long[3...]))))
    }

    /// RFC 4231 test cases 1, 2, 6 and 7 (6 and 7 use a key longer than a SHA-256 block).
    @Test func hmacSHA256Vectors() {
        let cases: [([UInt8], [UInt8], String)] = [
            ([UInt8](repeating: 0x0B, count: 20), Array("Hi There".utf8),
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            ([UInt8](repeating: 0xAA, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            ([UInt8](repeating: 0xAA, count: 131), Array(("This is a test using a larger than block-size key and a larger "
                + "than block-size data. The key needs to be hashed before being used by the HMAC algorithm.").utf8),
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
        ]
        for (key, data, expected) in cases {
            #expect(hex(Crypto.hmacSHA256(key: key, data: data)) == expected)
            let mac = HMACSHA256(key: key)
            for _ in 0..<3 {  // the keyed template is reused, never consumed
                #expect(hex(data.withUnsafeBytes { mac.authenticationCode(for: $0) }) == expected)
            }
        }
        #expect(Crypto.hmacSHA256(key: [], data: []).count == 32)
    }

    @Test func oneHMACInstanceFromManyThreadsAtOnce() async {
        let mac = HMACSHA256(key: Array("shared-key".utf8))
        let expected = Array(0..<64).map { i in Crypto.hmacSHA256(key: Array("shared-key".utf8), data: [UInt8](repeating: UInt8(i), count: i)) }
        await withTaskGroup(of: Bool.self) { group in
            for t in 0..<8 {
                group.addTask {
                    var ok = true
                    for round in 0..<500 {
                        let i = (round + t) % 64
                        let data = [UInt8](repeating: UInt8(i), count: i)
                        ok = ok && data.withUnsafeBytes { mac.authenticationCode(for: $0) } == expected[i]
                    }
                    return ok
                }
            }
            for await ok in group { #expect(ok) }
        }
    }

    @Test func constantTimeEqualOnRawBytes() {
        let a: [UInt8] = [1, 2, 3], b: [UInt8] = [1, 2, 4]
        a.withUnsafeBytes { x in
            #expect(Crypto.constantTimeEqual(x, x))
            b.withUnsafeBytes { y in #expect(!Crypto.constantTimeEqual(x, y)) }
            #expect(!Crypto.constantTimeEqual(x, UnsafeRawBufferPointer(rebasing: x[..<2])))
        }
    }

    // MARK: the 101

    @Test func switchingResponseIsWhatHTTPResponseMakes() {
        var rng = SplitMix64(seed: 11)
        for _ in 0..<200 {
            let key = Base64.encode((0..<16).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            let general = HTTPResponse.make(status: 101, headers: [
                HTTPHeader(name: "Upgrade", value: "websocket"),
                HTTPHeader(name: "Connection", value: "Upgrade"),
                HTTPHeader(name: "Sec-WebSocket-Accept", value: Base64.encode(Crypto.sha1(Array((key + WebSocketHandshake.guid).utf8)))),
            ])
            #expect(WebSocketHandshake.switchingResponse(forKey: key) == general)
        }
        #expect(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func keyAndVersionChecksOnHostileHeaders() {
        func head(_ extra: [HTTPHeader]) -> HTTPRequestHead {
            HTTPRequestHead(method: "GET", target: "/", headers: [
                HTTPHeader(name: "Host", value: "h"), HTTPHeader(name: "Upgrade", value: "websocket"),
                HTTPHeader(name: "Connection", value: "Upgrade"),
            ] + extra)
        }
        func status(_ extra: [HTTPHeader]) -> Int {
            switch WebSocketHandshake.accept(head(extra)) {
            case .success: 101
            case .failure(let failure): failure.error.status
            }
        }
        let key = HTTPHeader(name: "Sec-WebSocket-Key", value: "dGhlIHNhbXBsZSBub25jZQ==")
        let v13 = HTTPHeader(name: "sec-websocket-version", value: "13")
        #expect(status([v13, key]) == 101)
        #expect(status([key, v13]) == 101)
        #expect(status([key]) == 426)
        #expect(status([v13, v13, key]) == 426)  // two version fields
        #expect(status([HTTPHeader(name: "Sec-WebSocket-Version", value: "8"), key]) == 426)
        #expect(status([HTTPHeader(name: "Sec-WebSocket-Version", value: "13, 8"), key]) == 426)
        #expect(status([v13]) == 400)
        #expect(status([v13, key, key]) == 400)  // two key fields
        for bad in ["dGhlIHNhbXBsZSBub25jZR==", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ==A",
                    "dGhlIHNhbXBsZSBub25jZ===", "dGhlIHNhbXBsZSBub25j-Q==", "", "AAAAAAAAAAAAAAAAAAAAAAAA",
                    "AAAAAAAAAAAAAAAAAAAAAAA=", "dGhlIHNhbXBsZSBub25jZQ==\u{0}"] {
            #expect(status([v13, HTTPHeader(name: "Sec-WebSocket-Key", value: bad)]) == 400, "\(bad)")
        }
    }
}
