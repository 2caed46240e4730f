/// `--records postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?PARAMS]`: checked, and shown without its password.
///
/// libpq parses the URL itself (its connection URI syntax, `postgresql://` too); this type only checks the scheme
/// and gives the text that logs and errors may show.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    /// The URL as given (with its password, if any): for libpq only, never for a log.
    public let text: String

    /// Schemes libpq takes as a connection URI.
    public static let schemes = ["postgres://", "postgresql://"]

    /// Nil when `text` is not a `postgres://` or `postgresql://` URL with something after the scheme.
    public init?(_ text: String) {
        guard let scheme = Self.schemes.first(where: { text.hasPrefix($0) }), text.count > scheme.count,
              !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F })
        else { return nil }
        self.text = text
    }

    /// The URL with any password replaced by `***` (in the authority and in a `password=` parameter).
    public var redacted: String { Self.redact(text) }

    public var description: String { redacted }

    /// `text` with the URL's password (as written in the URL) replaced by `***`: for libpq's messages, which may
    /// quote a piece of a URL they could not parse.
    public func scrub(_ text: String) -> String {
        var out = text
        for secret in passwords where !secret.isEmpty {
            while let range = out.firstRange(of: secret) { out.replaceSubrange(range, with: "***") }
        }
        return out
    }

    /// The passwords written in the URL: in the user info and in `password=` parameters.
    private var passwords: [String] {
        guard let colon = text.firstIndex(of: ":"), text[colon...].hasPrefix("://") else { return [] }
        let rest = text[text.index(colon, offsetBy: 3)...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        var found: [String] = []
        if let at = authority.lastIndex(of: "@"), let separator = authority[..<at].firstIndex(of: ":") {
            found.append(String(authority[authority.index(after: separator)..<at]))
        }
        if let query = rest.firstIndex(of: "?") {
            for parameter in rest[rest.index(after: query)...].split(separator: "&")
            where parameter.lowercased().hasPrefix("password=") {
                found.append(String(parameter.dropFirst("password=".count)))
            }
        }
        return found
    }

    /// `scheme://user:secret@host/db?password=secret` → `scheme://user:***@host/db?password=***`.
    public static func redact(_ text: String) -> String {
        guard let colon = text.firstIndex(of: ":"), text[colon...].hasPrefix("://") else { return text }
        let restStart = text.index(colon, offsetBy: 3)
        let rest = text[restStart...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        var authority = String(rest[..<authorityEnd])
        // The last `@` ends the user info (a password may hold an escaped or even a bare `@`).
        if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
            authority = authority[...colon] + "***" + authority[at...]
        }
        var tail = String(rest[authorityEnd...])
        if let query = tail.firstIndex(of: "?") {
            let parameters = tail[tail.index(after: query)...].split(separator: "&", omittingEmptySubsequences: false)
                .map { $0.lowercased().hasPrefix("password=") ? "password=***" : String($0) }
            tail = tail[...query] + parameters.joined(separator: "&")
        }
        return String(text[..<restStart]) + authority + tail
    }
}
