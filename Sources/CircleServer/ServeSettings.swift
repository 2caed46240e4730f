import CircleWebSocket
import Logging

/// Where the token secret comes from. The secret itself is read by whoever starts the server, never kept here.
public enum SecretSource: Sendable, Equatable {
    /// No secret: `/rooms` is disabled.
    case none
    /// A file holding the secret (a trailing newline is ignored).
    case file(String)
    /// The `CIRCLE_SECRET` environment variable.
    case environment
}

/// Everything `circle serve` can be told, merged from its sources.
///
/// Precedence, highest first: command-line flags, `CIRCLE_*` environment variables, the config file, defaults.
/// Each setting is taken whole from the highest source that gives it (a list from a higher source replaces, not
/// extends, a lower one's). The secret follows the same order between `secret_file` and `CIRCLE_SECRET`.
public struct ServeSettings: Sendable, Equatable {
    public var hosts = ["127.0.0.1"]
    public var port = 8080
    public var tlsPort: Int?
    public var tlsCert: String?
    public var tlsKey: String?
    public var secret = SecretSource.none
    public var conformanceEcho = false
    public var logFormat = LogFormat.text
    public var logLevel = Logger.Level.info
    public var allowOrigins: [String] = []
    public var graceSeconds = 30
    public var maxParticipants = 50
    public var maxRooms = 10_000
    public var maxConnections = 100_000
    public var messageRate = 20
    /// Seconds: the furthest ahead a token's `exp` may be; an ended session refuses older tokens this long.
    public var maxTokenTTL = 86_400
    /// The largest WebSocket message (and frame) a room client may send, in KiB; larger closes with 1009.
    /// At most 128: the protocol decoder's own cap.
    public var maxMessageKiB = 128
    /// Who opens a group's session by joining: `facilitators` or `anyone` (peer-led groups).
    public var sessionOpeners = "facilitators"
    /// Where session and attendance webhooks are POSTed (none when nil).
    public var webhookURL: String?
    /// The webhook signing key: `whsec_` and base64 (Standard Webhooks).
    public var webhookSecretFile: String?
    public var drainSeconds = 5.0
    public var metricsPort: Int?
    public var metricsHosts = ["127.0.0.1"]
    /// Folder of the web client served at `/`.
    public var webRoot: String?
    /// The store's directory (SQLite); nil (`none`): no store, so rooms live in memory only and no records are kept.
    public var dataDir: String? = "circle-data"
    /// Days attendance records are kept (older ones are deleted daily).
    public var recordsDays = 365
    /// Where records go instead of `dataDir` (`postgres://…`); nil: the store in `dataDir`. Checked at start.
    public var records: String?
    /// Room state and ownership in Redis (`redis://HOST:PORT[/DB]`), one node of several; nil: this process alone.
    public var redis: String?
    /// With `redis`: `HOST:PORT` where the other nodes reach this one (port 0: the port bound).
    public var nodeAddress: String?
    /// With `redis`: milliseconds a room's lease lives without renewal.
    public var leaseMilliseconds = 10_000
    /// File holding the operator secret that may erase one person's records; nil: erasure is not served.
    public var operatorSecretFile: String?
    /// Setting name → where its value came from (`--port`, `CIRCLE_PORT`, `circle.conf:3`); absent: the default.
    public var origins: [String: String] = [:]

    /// The defaults.
    public init() {}

    /// Merges the layers (flags over environment over file over defaults) and validates the result.
    public static func resolve(flags: SettingsLayer, environment: SettingsLayer,
                               file: SettingsLayer) throws(SettingsError) -> ServeSettings {
        var settings = ServeSettings()
        for setting in SettingKey.all {
            guard let (values, origin) = pick(setting.name, [flags, environment, file]) else { continue }
            do {
                try setting.apply(&settings, values)
            } catch {
                throw SettingsError("\(origin): \(setting.name): \(error.description)")
            }
            settings.origins[setting.name] = origin
        }
        try settings.resolveSecret([flags, environment, file])
        try settings.validate()
        return settings
    }

    private static func pick(_ name: String, _ layers: [SettingsLayer]) -> ([String], String)? {
        for layer in layers {
            if let values = layer.values[name], let origin = layer.origins[name] { return (values, origin) }
        }
        return nil
    }

    private mutating func resolveSecret(_ layers: [SettingsLayer]) throws(SettingsError) {
        for layer in layers {
            let file = layer.values["secret_file"]?.first
            let direct = layer.origins["secret"]
            if file != nil, let direct {
                throw SettingsError("both \(layer.origins["secret_file"]!) and \(direct) give the secret; keep one")
            }
            if let file {
                guard !file.isEmpty else {
                    throw SettingsError("\(layer.origins["secret_file"]!): secret_file is empty")
                }
                secret = .file(file)
                origins["secret"] = layer.origins["secret_file"]
                return
            }
            if let direct {
                secret = .environment
                origins["secret"] = direct
                return
            }
        }
    }

    /// Rules between settings.
    func validate() throws(SettingsError) {
        guard (tlsCert == nil) == (tlsKey == nil) else { throw SettingsError("tls_cert and tls_key go together") }
        if tlsPort != nil && tlsCert == nil { throw SettingsError("tls_port needs tls_cert and tls_key") }
        if let tlsPort, tlsPort == port, port != 0 { throw SettingsError("tls_port and port must differ") }
        if let metricsPort, metricsPort != 0, metricsPort == port || metricsPort == tlsPort {
            throw SettingsError("metrics_port must differ from port and tls_port")
        }
    }

    /// The server configuration these settings describe.
    public var serverConfiguration: ServerConfiguration {
        var config = ServerConfiguration()
        config.hosts = hosts
        config.port = port
        config.conformanceEcho = conformanceEcho
        config.allowedOrigins = allowOrigins.isEmpty ? nil : Set(allowOrigins)
        config.shutdownDrainMilliseconds = UInt64(drainSeconds * 1000)
        config.maxConnections = maxConnections
        config.webSocketLimits = WebSocketLimits(maxFrameSize: maxMessageKiB << 10,
                                                 maxMessageSize: maxMessageKiB << 10)
        if let tlsCert, let tlsKey {
            config.tls = TLSSettings(certificateChainPath: tlsCert, privateKeyPath: tlsKey)
            config.tlsPort = tlsPort
        }
        config.metricsPort = metricsPort
        config.metricsHosts = metricsHosts
        config.webRoot = webRoot
        return config
    }

    /// The effective settings as a config file, each line commented with its source. Shows where the secret comes
    /// from, never the secret.
    public var described: String {
        var lines: [String] = []
        for setting in SettingKey.all {
            let values = setting.describe(self)
            let origin = origins[setting.name] ?? "default"
            if values.isEmpty {
                lines.append("# \(setting.name) (not set)")
            } else {
                lines.append("\(setting.name) = \(values.joined(separator: ", "))  # \(origin)")
            }
        }
        switch secret {
        case .none: lines.append("# secret: none (/rooms is disabled)")
        case .file: lines.append("# secret: read from secret_file  # \(origins["secret"] ?? "")")
        case .environment: lines.append("# secret: from CIRCLE_SECRET")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
