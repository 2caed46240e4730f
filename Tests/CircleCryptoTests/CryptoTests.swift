@testable import CircleCrypto
import CircleTestSupport
import Testing

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

/// Base64 against an independent decoder, SHA-1 and HMAC-SHA256 against published vectors, and the constant-time
/// comparison.
@Suite struct CryptoTests {
    // MARK: base64

    /// Base64 decoded the way Circle first did it, kept as an independent reference: a bit accumulator, symbol by
    /// symbol; the standard alphabet with `=` padding to a multiple of 4, base64url without padding; nil for a symbol
    /// outside the alphabet, a lone symbol past a whole group, or non-zero trailing bits.
    static func referenceDecode(_ text: [UInt8], url: Bool) -> [UInt8]? {
        let letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        let alphabet = Array((letters + (url ? "-_" : "+/")).utf8)
        var symbols = text[...]
        if !url {
            guard text.count % 4 == 0 else { return nil }
            var padding = 0
            while let last = symbols.last, last == UInt8(ascii: "="), padding < 2 {
                symbols.removeLast()
                padding += 1
            }
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
                let raw = (0..<Int(rng.next() % 40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                text = Array(Base64.encodeURL(raw).utf8)
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
            ([UInt8](repeating: 0xAA, count: 131),
             Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            ([UInt8](repeating: 0xAA, count: 131),
             Array(("This is a test using a larger than block-size key and a larger "
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
        let expected = Array(0..<64).map { i in
            Crypto.hmacSHA256(key: Array("shared-key".utf8), data: [UInt8](repeating: UInt8(i), count: i))
        }
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
}
