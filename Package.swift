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

        // Crypto helpers: SHA-1, HMAC-SHA256, random bytes (OpenSSL), base64.
        .target(name: "CircleCrypto", dependencies: ["COpenSSL"], swiftSettings: strict),
        // TLS through OpenSSL memory BIOs: ciphertext in, plaintext out, no sockets.
        .target(name: "CircleTLS", dependencies: ["COpenSSL"], swiftSettings: strict),
        // Pure codecs: no I/O.
        .target(name: "CircleHTTP", swiftSettings: strict),
        .target(name: "CircleWebSocket", dependencies: ["CircleCrypto", "CircleHTTP"], swiftSettings: strict),
        .target(name: "CircleJSON", swiftSettings: strict),
        .target(name: "CircleAuth", dependencies: ["CircleCrypto", "CircleJSON"], swiftSettings: strict),
        // The pure room engine: inputs -> effects, time passed in.
        .target(name: "CircleRoom", swiftSettings: strict),
        // JSON text messages <-> engine commands and events.
        .target(name: "CircleProtocol", dependencies: ["CircleJSON", "CircleRoom"], swiftSettings: strict),
        // The libuv shell: the only module that imports libuv.
        .target(name: "CircleLoop", dependencies: ["CLibUV"], swiftSettings: strict),
        // The HTTP/WebSocket server: listeners, connections, routing, keepalive, TLS, operations, settings, logs.
        // It carries an application (the rooms) without knowing it.
        .target(name: "CircleServer", dependencies: [
            "CircleLoop", "CircleHTTP", "CircleWebSocket", "CircleJSON", "CircleCrypto", "CircleTLS",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"), .product(name: "Prometheus", package: "swift-prometheus"),
        ], swiftSettings: strict),
        // The rooms application: authenticates joins, routes each connection to its room, carries out the effects.
        .target(name: "CircleRooms", dependencies: [
            "CircleServer", "CircleLoop", "CircleHTTP", "CircleWebSocket", "CircleAuth", "CircleProtocol", "CircleRoom",
            .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
        ], swiftSettings: strict),
        // A WebSocket client on the loop (and the client side of TLS): for the load generator and the tests.
        .target(name: "CircleClient", dependencies: ["CircleLoop", "CircleHTTP", "CircleWebSocket", "CircleTLS"],
                swiftSettings: strict),
        // The load generator behind `circle load`: real group sessions from one process, on Circle's own loop and codec.
        .target(name: "CircleLoad", dependencies: [
            "CircleClient", "CircleLoop", "CircleWebSocket", "CircleJSON", "CircleAuth", "CircleProtocol", "CircleRoom",
            "CircleTLS",
        ], swiftSettings: strict),
        .executableTarget(name: "circle", dependencies: [
            "CircleServer", "CircleRooms", "CircleAuth", "CircleLoad", "CircleCrypto", "CircleLoop",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ], swiftSettings: strict),

        // What several test targets share: a seeded random generator, running a child process.
        .target(name: "CircleTestSupport", path: "Tests/CircleTestSupport", swiftSettings: strict),
        .testTarget(name: "CircleCodecTests", dependencies: ["CircleHTTP", "CircleWebSocket", "CircleCrypto", "CircleTestSupport"], swiftSettings: strict),
        .testTarget(name: "CircleLoadTests", dependencies: [
            "CircleLoad", "CircleServer", "CircleRooms", "CircleLoop", "CircleJSON",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        .testTarget(name: "CircleTLSTests", dependencies: ["CircleTLS", "CircleTestSupport"], swiftSettings: strict),
        .testTarget(name: "CircleAuthTests", dependencies: ["CircleAuth", "CircleJSON", "CircleCrypto", "CircleTestSupport"], swiftSettings: strict),
        .testTarget(name: "CircleRoomTests", dependencies: ["CircleRoom"], swiftSettings: strict),
        .testTarget(name: "CircleProtocolTests", dependencies: ["CircleProtocol", "CircleRoom", "CircleJSON"], swiftSettings: strict),
        .testTarget(name: "CircleServerTests", dependencies: [
            "CircleServer", "CircleRooms", "CircleRoom", "CircleLoop", "CircleWebSocket", "CircleHTTP", "CircleAuth", "CircleJSON",
            "CircleCrypto", "CircleTLS", "CircleClient", "CircleTestSupport", .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
