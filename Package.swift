// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .unsafeFlags(["-warnings-as-errors"], .when(configuration: .debug)),
    // Release builds drop Swift's runtime exclusivity checks (14 % of the server's instructions in the relay profile,
    // Docs/PERFORMANCE.md). Each loop's state is touched by its one thread only, and debug builds, which the tests
    // run, keep the checks: an overlapping access is still caught there. Compile-time checks stay on in both.
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "Circle",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "circle", targets: ["circle"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C libraries from Debian, through pkg-config.
        .systemLibrary(name: "CLibUV", pkgConfig: "libuv", providers: [.apt(["libuv1-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // No pkgConfig: hiredis.pc adds -D_FILE_OFFSET_BITS=64, which SwiftPM warns about; the shim needs no -I.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),

        // Crypto helpers: SHA-1, HMAC-SHA256, random bytes (OpenSSL), base64.
        .target(name: "CircleCrypto", dependencies: ["COpenSSL"], swiftSettings: strict),
        // TLS through OpenSSL memory BIOs: ciphertext in, plaintext out, no sockets.
        .target(name: "CircleTLS", dependencies: ["COpenSSL"], swiftSettings: strict),
        // Word-at-a-time byte scans, the UTF-8 validator and the control-character set the codecs share.
        .target(name: "CircleBytes", swiftSettings: strict),
        // Pure codecs: no I/O.
        .target(name: "CircleHTTP", dependencies: ["CircleBytes"], swiftSettings: strict),
        .target(name: "CircleWebSocket", dependencies: ["CircleBytes", "CircleCrypto", "CircleHTTP"],
                swiftSettings: strict),
        .target(name: "CircleJSON", dependencies: ["CircleBytes"], swiftSettings: strict),
        // The pure room engine: inputs -> effects, time passed in.
        .target(name: "CircleRoom", swiftSettings: strict),
        // Join tokens (JWT HS256): verified claims, a room ``Role`` among them.
        .target(name: "CircleAuth", dependencies: ["CircleBytes", "CircleCrypto", "CircleJSON", "CircleRoom"],
                swiftSettings: strict),
        // JSON text messages <-> engine commands and events.
        .target(name: "CircleProtocol", dependencies: ["CircleJSON", "CircleRoom"], swiftSettings: strict),
        // The libuv shell: the only module that imports libuv.
        .target(name: "CircleLoop", dependencies: ["CLibUV"], swiftSettings: strict),
        // The HTTP/WebSocket server: listeners, connections, routing, keepalive, TLS, operations, settings, logs.
        // It carries an application (the rooms) without knowing it.
        .target(name: "CircleServer", dependencies: [
            "CircleLoop", "CircleBytes", "CircleHTTP", "CircleWebSocket", "CircleJSON", "CircleCrypto", "CircleTLS",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ], swiftSettings: strict),
        // The rooms application: authenticates joins, routes each connection to its room, carries out the effects.
        .target(name: "CircleRooms", dependencies: [
            "CircleServer", "CircleLoop", "CircleHTTP", "CircleWebSocket", "CircleAuth", "CircleProtocol", "CircleRoom",
            "CircleJSON", "CircleStore", "CircleWebhooks", "CircleClient",
            .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
        ], swiftSettings: strict),
        // Webhooks to the platform: signed (Standard Webhooks), queued, sent from their own thread with libcurl.
        .target(name: "CircleWebhooks", dependencies: ["CCurl", "CircleCrypto", "CircleJSON"], swiftSettings: strict),
        // A WebSocket client on the loop (and the client side of TLS): for the load generator and the tests.
        .target(name: "CircleClient", dependencies: [
            "CircleCrypto", "CircleLoop", "CircleHTTP", "CircleWebSocket", "CircleTLS",
        ], swiftSettings: strict),
        // The load generator behind `circle load`: group sessions from one process, on Circle's own loop and codec.
        .target(name: "CircleLoad", dependencies: [
            "CircleClient", "CircleLoop", "CircleWebSocket", "CircleJSON", "CircleAuth", "CircleProtocol", "CircleRoom",
            "CircleTLS",
        ], swiftSettings: strict),
        // The store: rooms' snapshots and events, sessions and attendance; SQLite written by one thread.
        .target(name: "CircleStore", dependencies: ["CSQLite"], swiftSettings: strict),
        // Attendance records in PostgreSQL (`--records postgres://…`): libpq, written by one thread.
        .target(name: "CirclePostgres", dependencies: ["CLibPQ", "CircleStore"], swiftSettings: strict),
        // Attendance records over HTTP: the report (JSON, CSV), who may read it, the operator's credential.
        .target(name: "CircleRecords", dependencies: [
            "CircleStore", "CircleJSON", "CircleCrypto", "CircleAuth", "CircleHTTP", "CircleLoop", "CircleServer",
            "CircleRoom",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        // Room state in Redis, on the loop through hiredis: room leases with fencing epochs, fenced writes.
        .target(name: "CircleRedis", dependencies: ["CircleStore", "CircleLoop", "CHiredis", "CircleCrypto"],
                swiftSettings: strict),
        // The store's benchmark, and the child process its tests kill.
        .executableTarget(name: "circle-store", dependencies: ["CircleStore"], swiftSettings: strict),
        .executableTarget(name: "circle", dependencies: [
            "CircleServer", "CircleRooms", "CircleWebhooks", "CircleAuth", "CircleRoom", "CircleLoad", "CircleCrypto",
            "CircleRecords", "CircleStore", "CircleLoop", "CirclePostgres", "CircleRedis",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ], swiftSettings: strict),

        // What several test targets share: a seeded random generator, child processes, driving a loop, counting
        // write calls, the webhook receiver.
        .target(name: "CircleTestSupport", dependencies: ["CircleLoop"], path: "Tests/CircleTestSupport",
                swiftSettings: strict),
        // The tree-parser reference the JSON scanner and the protocol decoder are held to.
        .target(name: "CircleJSONTestSupport", dependencies: ["CircleJSON"], path: "Tests/CircleJSONTestSupport",
                swiftSettings: strict),
        // The `Codable` snapshot encoder the hand-written one is held to (also compiled into Tests/Fuzz/Bench).
        .target(name: "CircleRoomTestSupport", dependencies: ["CircleRoom"], path: "Tests/CircleRoomTestSupport",
                swiftSettings: strict),
        .testTarget(name: "CircleBytesTests", dependencies: ["CircleBytes", "CircleTestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "CircleCryptoTests", dependencies: ["CircleCrypto", "CircleTestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "CircleHTTPTests", dependencies: ["CircleHTTP", "CircleTestSupport"], swiftSettings: strict),
        .testTarget(name: "CircleWebSocketTests", dependencies: [
            "CircleWebSocket", "CircleHTTP", "CircleBytes", "CircleCrypto", "CircleTestSupport",
        ], swiftSettings: strict),
        .testTarget(name: "CircleJSONTests", dependencies: ["CircleJSON", "CircleJSONTestSupport", "CircleTestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "CircleLoopTests", dependencies: ["CircleLoop", "CircleTestSupport"], swiftSettings: strict),
        .testTarget(name: "CircleLoadTests", dependencies: [
            "CircleLoad", "CircleServer", "CircleRooms", "CircleLoop", "CircleJSON",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        .testTarget(name: "CircleTLSTests", dependencies: ["CircleTLS", "CircleTestSupport"], swiftSettings: strict),
        .testTarget(name: "CircleAuthTests", dependencies: [
            "CircleAuth", "CircleJSON", "CircleCrypto", "CircleRoom", "CircleTestSupport",
        ], swiftSettings: strict),
        .testTarget(name: "CircleWebhooksTests", dependencies: ["CircleWebhooks", "CircleCrypto", "CircleJSON",
                                                                "CircleTestSupport"], swiftSettings: strict),
        .testTarget(name: "CircleRecordsTests", dependencies: [
            "CircleRecords", "CircleStore", "CircleJSON", "CircleAuth", "CircleRoom", "CircleServer", "CircleLoop",
            "CircleHTTP", "CircleTestSupport", .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        .testTarget(name: "CircleStoreTests", dependencies: [
            "CircleStore", "CircleLoop", "circle-store", "CircleTestSupport",
        ], swiftSettings: strict),
        .testTarget(name: "CircleRedisTests", dependencies: [
            "CircleRedis", "CircleStore", "CircleLoop", "CircleTestSupport",
        ], swiftSettings: strict),
        .testTarget(name: "CirclePostgresTests", dependencies: [
            "CirclePostgres", "CircleStore", "CircleTestSupport",
        ], swiftSettings: strict),
        .testTarget(name: "CircleRoomTests", dependencies: [
            "CircleRoom", "CircleRoomTestSupport", "CircleTestSupport",
        ], swiftSettings: strict),
        .testTarget(name: "CircleProtocolTests", dependencies: [
            "CircleProtocol", "CircleRoom", "CircleJSON", "CircleJSONTestSupport",
        ],
                    swiftSettings: strict),
        .testTarget(name: "CircleServerTests", dependencies: [
            "CircleServer", "CircleRooms", "CircleRoom", "CircleLoop", "CircleWebSocket", "CircleHTTP", "CircleAuth",
            "CircleJSON", "CircleCrypto", "CircleTLS", "CircleClient", "CircleStore", "CircleTestSupport",
            .product(name: "Logging", package: "swift-log"), .product(name: "Prometheus", package: "swift-prometheus"),
        ], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
