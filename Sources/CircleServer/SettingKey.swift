import Logging

/// Why a value was refused (the caller adds where it came from).
struct SettingValueError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One setting: its name (a flag's name with `_`, a config key, `CIRCLE_` + its upper-case form), whether it takes
/// several values, how a value is read into `ServeSettings`, and how it is shown.
struct SettingKey: Sendable {
    let name: String
    let repeats: Bool
    let apply: @Sendable (inout ServeSettings, [String]) throws(SettingValueError) -> Void
    let describe: @Sendable (ServeSettings) -> [String]

    static func named(_ name: String) -> SettingKey? { all.first { $0.name == name } }

    /// Every setting, in the order `--check-config` shows them.
    static let all: [SettingKey] = [
        list("host", \.hosts),
        int("port", \.port, 0...65535),
        optionalInt("tls_port", \.tlsPort, 0...65535),
        path("tls_cert", \.tlsCert),
        path("tls_key", \.tlsKey),
        path("web_root", \.webRoot),
        SettingKey(name: "secret_file", repeats: false, apply: { _, _ in }, describe: { s in
            if case .file(let path) = s.secret { return [path] }
            return []
        }),
        bool("conformance_echo", \.conformanceEcho),
        SettingKey(name: "log_format", repeats: false, apply: { s, v throws(SettingValueError) in
            guard let format = LogFormat(rawValue: v[0]) else { throw SettingValueError("must be text or json") }
            s.logFormat = format
        }, describe: { [$0.logFormat.rawValue] }),
        SettingKey(name: "log_level", repeats: false, apply: { s, v throws(SettingValueError) in
            guard let level = Logger.Level(rawValue: v[0]) else {
                throw SettingValueError("must be trace, debug, info, notice, warning, error or critical")
            }
            s.logLevel = level
        }, describe: { [$0.logLevel.rawValue] }),
        list("allow_origin", \.allowOrigins),
        int("grace_seconds", \.graceSeconds, 0...86_400),
        int("max_participants", \.maxParticipants, 1...10_000),
        int("max_rooms", \.maxRooms, 1...10_000_000),
        int("max_connections", \.maxConnections, 1...10_000_000),
        int("message_rate", \.messageRate, 1...10_000),
        int("max_token_ttl", \.maxTokenTTL, 60...31_536_000),
        int("max_message_kib", \.maxMessageKiB, 16...128),
        SettingKey(name: "session_openers", repeats: false, apply: { s, v throws(SettingValueError) in
            guard ["facilitators", "anyone"].contains(v[0]) else {
                throw SettingValueError("must be facilitators or anyone")
            }
            s.sessionOpeners = v[0]
        }, describe: { [$0.sessionOpeners] }),
        SettingKey(name: "webhook_url", repeats: false, apply: { s, v throws(SettingValueError) in
            guard v[0].hasPrefix("http://") || v[0].hasPrefix("https://") else {
                throw SettingValueError("must be an http:// or https:// URL")
            }
            s.webhookURL = v[0]
        }, describe: { $0.webhookURL.map { [$0] } ?? [] }),
        path("webhook_secret_file", \.webhookSecretFile),
        SettingKey(name: "drain_seconds", repeats: false, apply: { s, v throws(SettingValueError) in
            guard let seconds = Double(v[0]), seconds.isFinite, (0...3600).contains(seconds) else {
                throw SettingValueError("must be a number of seconds, 0…3600")
            }
            s.drainSeconds = seconds
        }, describe: { [String($0.drainSeconds)] }),
        optionalInt("metrics_port", \.metricsPort, 0...65535),
        list("metrics_host", \.metricsHosts),
        SettingKey(name: "data_dir", repeats: false, apply: { s, v throws(SettingValueError) in
            guard !v[0].isEmpty else { throw SettingValueError("must be a path, or none") }
            s.dataDir = v[0] == "none" ? nil : v[0]
        }, describe: { [$0.dataDir ?? "none"] }),
        int("records_days", \.recordsDays, 1...36_500),
        SettingKey(name: "records", repeats: false, apply: { s, v throws(SettingValueError) in
            guard !v[0].isEmpty else { throw SettingValueError("must be a URL (postgres://USER@HOST:PORT/DB)") }
            s.records = v[0]
        }, describe: { s in s.records.map { [redactedPassword($0)] } ?? [] }),
        path("operator_secret_file", \.operatorSecretFile),
        SettingKey(name: "redis", repeats: false, apply: { s, v throws(SettingValueError) in
            guard v[0].hasPrefix("redis://") else { throw SettingValueError("must be a redis://HOST:PORT URL") }
            s.redis = v[0]
        }, describe: { s in s.redis.map { [redactedPassword($0)] } ?? [] }),
        SettingKey(name: "node_address", repeats: false, apply: { s, v throws(SettingValueError) in
            guard let colon = v[0].lastIndex(of: ":"), colon != v[0].startIndex,
                  let port = Int(v[0][v[0].index(after: colon)...]), (0...65535).contains(port) else {
                throw SettingValueError("must be HOST:PORT (where the other nodes reach this one)")
            }
            s.nodeAddress = v[0]
        }, describe: { s in s.nodeAddress.map { [$0] } ?? [] }),
        int("lease_ms", \.leaseMilliseconds, 300...600_000),
    ]

    /// `scheme://user:secret@host` → `scheme://user:***@host`: a URL's password never reaches `--check-config`.
    private static func redactedPassword(_ url: String) -> String {
        guard let scheme = url.firstIndex(of: ":"), url[scheme...].hasPrefix("://") else { return url }
        let start = url.index(scheme, offsetBy: 3)
        let authority = url[start...].prefix { $0 != "/" && $0 != "?" }
        guard let at = authority.lastIndex(of: "@"), let colon = url[start..<at].firstIndex(of: ":") else {
            return url
        }
        return String(url[...colon]) + "***" + String(url[at...])
    }

    private static func int(_ name: String, _ field: WritableKeyPath<ServeSettings, Int> & Sendable,
                            _ range: ClosedRange<Int>) -> SettingKey {
        SettingKey(name: name, repeats: false, apply: { s, v throws(SettingValueError) in
            s[keyPath: field] = try parseInt(v[0], range)
        }, describe: { [String($0[keyPath: field])] })
    }

    private static func optionalInt(_ name: String, _ field: WritableKeyPath<ServeSettings, Int?> & Sendable,
                                    _ range: ClosedRange<Int>) -> SettingKey {
        SettingKey(name: name, repeats: false, apply: { s, v throws(SettingValueError) in
            s[keyPath: field] = try parseInt(v[0], range)
        }, describe: { s in s[keyPath: field].map { [String($0)] } ?? [] })
    }

    private static func parseInt(_ text: String, _ range: ClosedRange<Int>) throws(SettingValueError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw SettingValueError("must be an integer \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    private static func path(_ name: String, _ field: WritableKeyPath<ServeSettings, String?> & Sendable)
        -> SettingKey
    {
        SettingKey(name: name, repeats: false, apply: { s, v throws(SettingValueError) in
            guard !v[0].isEmpty else { throw SettingValueError("must be a path") }
            s[keyPath: field] = v[0]
        }, describe: { s in s[keyPath: field].map { [$0] } ?? [] })
    }

    private static func bool(_ name: String, _ field: WritableKeyPath<ServeSettings, Bool> & Sendable) -> SettingKey {
        SettingKey(name: name, repeats: false, apply: { s, v throws(SettingValueError) in
            switch v[0].lowercased() {
            case "true", "yes", "on", "1": s[keyPath: field] = true
            case "false", "no", "off", "0": s[keyPath: field] = false
            default: throw SettingValueError("must be true or false")
            }
        }, describe: { [String($0[keyPath: field])] })
    }

    private static func list(_ name: String, _ field: WritableKeyPath<ServeSettings, [String]> & Sendable)
        -> SettingKey
    {
        SettingKey(name: name, repeats: true, apply: { s, v throws(SettingValueError) in
            guard !v.isEmpty, !v.contains(where: \.isEmpty) else { throw SettingValueError("must not be empty") }
            s[keyPath: field] = v
        }, describe: { $0[keyPath: field] })
    }
}
