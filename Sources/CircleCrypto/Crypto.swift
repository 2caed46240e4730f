import COpenSSL

/// Hashes, MACs and random bytes from OpenSSL. The only place besides TLS that touches OpenSSL.
///
/// OpenSSL 3's one-shot calls (`SHA1()`, `HMAC()`) look the algorithm up in the provider registry on every call
/// (`EVP_MD_fetch`/`EVP_MAC_fetch`: tens of thousands of instructions, more than the hashing itself for short
/// inputs). Here every algorithm is fetched once per process (``FetchedAlgorithms``) and reused.
public enum Crypto {
    /// SHA-1 digest (20 bytes). Used for `Sec-WebSocket-Accept` only.
    public static func sha1<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        if let digest = bytes.withContiguousStorageIfAvailable({ sha1(UnsafeRawBufferPointer($0)) }) { return digest }
        return Array(bytes).withUnsafeBytes { sha1($0) }
    }

    /// SHA-1 digest (20 bytes) of raw bytes.
    public static func sha1(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Int(SHA_DIGEST_LENGTH)) { out, count in
            var length: UInt32 = 0
            let ok = EVP_Digest(bytes.baseAddress, bytes.count, out.baseAddress, &length,
                                FetchedAlgorithms.shared.sha1, nil)
            precondition(ok == 1 && length == UInt32(SHA_DIGEST_LENGTH), "OpenSSL SHA-1 failed")
            count = Int(length)
        }
    }

    /// HMAC-SHA256 (32 bytes). For many MACs under one key, keep an ``HMACSHA256`` instead.
    public static func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8] {
        data.withUnsafeBytes { HMACSHA256(key: key).authenticationCode(for: $0) }
    }

    /// Cryptographically secure random bytes. Crashes only if the OS RNG is broken (OpenSSL cannot seed).
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let ok = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(ok == 1, "OpenSSL RAND_bytes failed")
        return out
    }

    /// Compares two byte strings in time that depends only on their lengths.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { a in b.withUnsafeBytes { b in constantTimeEqual(a, b) } }
    }

    /// Compares two byte strings in time that depends only on their lengths.
    public static func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<a.count { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}

/// HMAC-SHA256 under one key: the MAC implementation is fetched and the key schedule (the inner and outer padded
/// key blocks) computed once, at init; each MAC then duplicates that keyed context, so it costs the hashing of the
/// data and no registry lookup.
///
/// Thread safety: the keyed template is never modified after init and is only read (`EVP_MAC_CTX_dup` takes it
/// as `const`), and each call works on its own duplicate, so one instance may be used from any number of threads
/// at once. (Circle's servers keep one per loop thread anyway.)
public final class HMACSHA256: @unchecked Sendable {
    /// The length of a MAC, in bytes.
    public static let byteCount = 32

    /// The keyed `EVP_MAC_CTX`, duplicated for each MAC; read-only after init.
    private let template: OpaquePointer

    /// A MAC under `key` (any length; HMAC hashes keys longer than a block).
    public init(key: [UInt8]) {
        guard let context = EVP_MAC_CTX_new(FetchedAlgorithms.shared.hmac) else {
            preconditionFailure("OpenSSL EVP_MAC_CTX_new failed")
        }
        let ok = "digest".withCString { name in
            "SHA256".withCString { digest in
                var params = [
                    OSSL_PARAM_construct_utf8_string(name, UnsafeMutablePointer(mutating: digest), 0),
                    OSSL_PARAM_construct_end(),
                ]
                // A zero-length key still needs a non-null pointer: OpenSSL reads NULL as "no key given".
                let storage = key.isEmpty ? [0] : key
                return storage.withUnsafeBufferPointer { EVP_MAC_init(context, $0.baseAddress, key.count, &params) }
            }
        }
        precondition(ok == 1, "OpenSSL EVP_MAC_init(HMAC-SHA256) failed")
        template = context
    }

    deinit { EVP_MAC_CTX_free(template) }

    /// The 32-byte MAC of `data`.
    public func authenticationCode(for data: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.byteCount) { out, count in
            authenticate(data, into: UnsafeMutableRawBufferPointer(out))
            count = Self.byteCount
        }
    }

    /// Writes the MAC of `data` into the first 32 bytes of `out` (which must hold at least 32).
    public func authenticate(_ data: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        precondition(out.count >= Self.byteCount, "HMAC-SHA256 output buffer too small")
        guard let context = EVP_MAC_CTX_dup(template) else { preconditionFailure("OpenSSL EVP_MAC_CTX_dup failed") }
        defer { EVP_MAC_CTX_free(context) }
        var length = 0
        let base = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
        guard EVP_MAC_update(context, data.baseAddress?.assumingMemoryBound(to: UInt8.self), data.count) == 1,
              EVP_MAC_final(context, base, &length, Self.byteCount) == 1, length == Self.byteCount
        else { preconditionFailure("OpenSSL HMAC-SHA256 failed") }
    }
}

/// The OpenSSL algorithm objects Circle uses, fetched once per process. Fetched `EVP_MD`/`EVP_MAC` objects are
/// immutable and reference-counted, and OpenSSL documents them as safe to share between threads.
final class FetchedAlgorithms: @unchecked Sendable {
    static let shared = FetchedAlgorithms()

    let sha1: OpaquePointer
    let hmac: OpaquePointer

    private init() {
        guard let sha1 = EVP_MD_fetch(nil, "SHA1", nil), let hmac = EVP_MAC_fetch(nil, "HMAC", nil) else {
            preconditionFailure("OpenSSL lacks SHA1 or HMAC")
        }
        self.sha1 = sha1
        self.hmac = hmac
    }
}
