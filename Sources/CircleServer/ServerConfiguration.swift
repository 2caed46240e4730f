import CircleHTTP
import CircleWebSocket

/// Everything the server can be told. Defaults are the production defaults; tests shorten the timeouts.
public struct ServerConfiguration: Sendable {
    /// Addresses to listen on (IP literals; IPv4 and IPv6 may be mixed). Default: IPv4 loopback.
    public var hosts: [String] = ["127.0.0.1"]
    /// TCP port; 0 picks a free one (the bound port is logged and returned by `Server.start`).
    public var port: Int = 8080
    /// Serve `/echo` (echoes every message) for conformance and benchmark runs.
    public var conformanceEcho = false
    /// Origins allowed to open WebSockets; nil allows any (browsers send `Origin`; other clients don't).
    public var allowedOrigins: Set<String>?
    /// A folder holding the web client (`index.html`, `app.js`, `circle.js`, `circle.d.ts`, `style.css`), served
    /// from memory at `/` and `/<name>`; nil serves no files.
    public var webRoot: String?

    /// Request-head caps.
    public var httpLimits = HTTPLimits()
    /// A request head not complete within this time is dropped (slowloris).
    public var headTimeoutMilliseconds: UInt64 = 10_000
    /// WebSocket limits for application routes (room messages are small; signals are capped at 64 KiB).
    public var webSocketLimits = WebSocketLimits(maxFrameSize: 128 << 10, maxMessageSize: 128 << 10)
    /// WebSocket limits for `/echo` (Autobahn sends messages up to 16 MiB).
    public var echoLimits = WebSocketLimits(maxFrameSize: 16 << 20, maxMessageSize: 16 << 20)
    /// A connection silent this long gets a ping…
    public var pingIntervalMilliseconds: UInt64 = 15_000
    /// …and is closed if nothing (pong or anything else) arrives within this time after it.
    public var pongTimeoutMilliseconds: UInt64 = 10_000
    /// How long we wait for the peer to answer our close frame (and then for its FIN) before cutting the connection.
    public var closeTimeoutMilliseconds: UInt64 = 3_000
    /// How long a graceful shutdown waits for clients to finish the close handshake.
    public var shutdownDrainMilliseconds: UInt64 = 5_000
    /// Outbound bytes a connection may have waiting before it is closed as a slow consumer.
    public var maxQueuedBytesPerConnection = 1 << 20
    /// Outbound bytes for `/echo` connections (they echo up to 16 MiB).
    public var maxQueuedBytesEcho = 40 << 20
    /// Connections beyond this are answered 503 and closed. Leave room below the process's file limit.
    public var maxConnections = 100_000
    /// Serve TLS (wss://, https://) with this certificate chain and key; nil serves plain TCP only.
    public var tls: TLSSettings?
    /// With `tls`: a separate TLS port, so that `port` keeps serving plain TCP beside it (0 picks a free one). When
    /// nil, `port` itself serves TLS and there is no plain listener.
    public var tlsPort: Int?
    /// A separate, private port for `/metrics`, `/healthz` and `/readyz` (0 picks a free one). When set, `/metrics`
    /// is served only there; the port keeps answering while the server drains. nil: no such listener.
    public var metricsPort: Int?
    /// Addresses the metrics port listens on. Default: IPv4 loopback only.
    public var metricsHosts: [String] = ["127.0.0.1"]

    public init() {}

    /// Granularity of the connection sweep (head timeouts, keepalive, close deadlines).
    var sweepIntervalMilliseconds: UInt64 {
        max(10, min(1000, headTimeoutMilliseconds / 4, pingIntervalMilliseconds / 4, pongTimeoutMilliseconds / 4,
                    closeTimeoutMilliseconds / 4))
    }
}
