import COpenSSL

/// A TLS failure: a context that could not be built, or a connection that failed.
///
/// The message is built from OpenSSL's error queue (reason strings such as `SSL routines::no shared cipher`)
/// plus, for contexts, the file path involved. It never holds key material, certificate contents or application
/// bytes, so it is safe to log.
public struct TLSError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, for logs.
    public var message: String

    /// An error with this message.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }

    /// `context` followed by every entry of this thread's OpenSSL error queue, which it empties.
    static func openSSLCallFailed(_ context: String) -> TLSError {
        joining(context, OpenSSLErrors.drain())
    }

    /// `context: reason; reason`.
    static func joining(_ context: String, _ reasons: [String]) -> TLSError {
        TLSError(reasons.isEmpty ? context : "\(context): \(reasons.joined(separator: "; "))")
    }
}

/// What a call on a ``TLSConnection`` came to.
public enum TLSResult: Sendable, Equatable {
    /// Fine; keep going.
    case ok
    /// The peer sent close_notify: no more application data will come. Sending is still allowed (a half close)
    /// until ``TLSConnection/shutdown(output:)``.
    case closed
    /// The connection failed and cannot be used again. `output` may hold an alert for the peer: send it, then close
    /// the socket.
    case failed(TLSError)
}

/// OpenSSL keeps its errors in a per-thread queue. Every TLS call starts with an empty queue (so that
/// `SSL_get_error` sees only its own failure) and a failure drains it into a ``TLSError``.
enum OpenSSLErrors {
    /// Forgets whatever an earlier call left behind on this thread.
    static func clear() { ERR_clear_error() }

    /// The queue's reasons, oldest first and without duplicates; the queue is empty afterwards.
    static func drain() -> [String] {
        var reasons: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while case let code = ERR_get_error(), code != 0 {
            ERR_error_string_n(code, &buffer, buffer.count)
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // "error:0A0000C1:SSL routines::no shared cipher" -> "SSL routines::no shared cipher"
            let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            let reason = parts.count == 3 && parts[0] == "error" ? String(parts[2]) : text
            if !reasons.contains(reason) { reasons.append(reason) }
        }
        // "BIO routines::system lib", "SSL routines::PEM lib" only say which layer passed the error up.
        let specific = reasons.filter { !$0.hasSuffix(" lib") }
        return specific.isEmpty ? reasons : specific
    }
}
