import CircleServer
import Logging
import Testing

/// Configuration: the config file format, the environment, and the merge (flags > environment > file > defaults).
@Suite struct SettingsTests {
    private func layer(_ pairs: [(String, [String])], origin: String) -> SettingsLayer {
        var layer = SettingsLayer()
        for (name, values) in pairs { layer.set(name, values, origin: origin) }
        return layer
    }

    private func resolve(flags: SettingsLayer = .init(), environment: [String: String] = [:],
                         file: String = "") throws(SettingsError) -> ServeSettings {
        try ServeSettings.resolve(flags: flags, environment: .environment(environment),
                                  file: .file(file, path: "circle.conf"))
    }

    private func refusal(
        flags: SettingsLayer = .init(), environment: [String: String] = [:], file: String = ""
    ) -> String? {
        do {
            _ = try resolve(flags: flags, environment: environment, file: file)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func defaultsWithNothingGiven() throws {
        let s = try resolve()
        #expect(s == ServeSettings())
        #expect(s.port == 8080 && s.hosts == ["127.0.0.1"] && s.secret == .none && s.metricsPort == nil)
        #expect(s.origins.isEmpty)
    }

    @Test func precedenceIsFlagsThenEnvironmentThenFileThenDefaults() throws {
        let file = """
            # a comment
            port = 1111
            grace_seconds = 7
            max_rooms = 3
            """
        let s = try resolve(flags: layer([("port", ["3333"])], origin: "--port"),
                            environment: ["CIRCLE_PORT": "2222", "CIRCLE_GRACE_SECONDS": "8"], file: file)
        #expect(s.port == 3333)
        #expect(s.graceSeconds == 8)
        #expect(s.maxRooms == 3)
        #expect(s.messageRate == 20)
        #expect(s.origins["port"] == "--port")
        #expect(s.origins["grace_seconds"] == "CIRCLE_GRACE_SECONDS")
        #expect(s.origins["max_rooms"] == "circle.conf:4")
        #expect(s.origins["message_rate"] == nil)
    }

    @Test func messageSizeLimitReachesTheWebSocketLimits() throws {
        let s = try resolve(environment: ["CIRCLE_MAX_MESSAGE_KIB": "32"])
        #expect(s.serverConfiguration.webSocketLimits.maxMessageSize == 32 << 10)
        #expect(s.serverConfiguration.webSocketLimits.maxFrameSize == 32 << 10)
        #expect(throws: SettingsError.self) { try resolve(environment: ["CIRCLE_MAX_MESSAGE_KIB": "129"]) }
    }

    @Test func aHigherSourceReplacesAListWhole() throws {
        let s = try resolve(environment: ["CIRCLE_HOST": "::1"], file: "host = 127.0.0.1\nhost = 10.0.0.1\n")
        #expect(s.hosts == ["::1"])
        let fromFile = try resolve(
            file: "host = 127.0.0.1, ::1\nallow_origin = https://a.example\nallow_origin = https://b.example")
        #expect(fromFile.hosts == ["127.0.0.1", "::1"])
        #expect(fromFile.allowOrigins == ["https://a.example", "https://b.example"])
    }

    @Test func fileFormat() throws {
        let s = try resolve(file: """

              log_level = debug   # inline comment
            tls-cert = "/etc/circle/cert #1.pem"
            tls_key=/etc/circle/key.pem
            conformance_echo = yes
            drain_seconds = 2.5
            metrics_port = 9090\r
            """)
        #expect(s.logLevel == .debug)
        #expect(s.tlsCert == "/etc/circle/cert #1.pem")
        #expect(s.tlsKey == "/etc/circle/key.pem")
        #expect(s.conformanceEcho)
        #expect(s.drainSeconds == 2.5)
        #expect(s.metricsPort == 9090)
        let config = s.serverConfiguration
        #expect(config.tls?.certificateChainPath == "/etc/circle/cert #1.pem")
        #expect(config.metricsPort == 9090)
        #expect(config.shutdownDrainMilliseconds == 2500)
    }

    @Test(arguments: [
        ("secret = hunter2hunter2hunter2", "circle.conf:1: a secret may not be written in the config file"),
        ("port = 80\nport = 81", "circle.conf:2: `port` already set at circle.conf:1"),
        ("colour = blue", "circle.conf:1: unknown setting `colour`"),
        ("just words", "circle.conf:1: expected `name = value`"),
        ("tls_cert = \"/unterminated", "circle.conf:1: unterminated quote"),
        ("port = eighty", "circle.conf:1: port: must be an integer 0…65535"),
        ("port = 70000", "circle.conf:1: port: must be an integer 0…65535"),
        ("grace_seconds = -1", "circle.conf:1: grace_seconds: must be an integer"),
        ("max_rooms = 0", "circle.conf:1: max_rooms: must be an integer 1…"),
        ("conformance_echo = maybe", "circle.conf:1: conformance_echo: must be true or false"),
        ("log_format = xml", "circle.conf:1: log_format: must be text or json"),
        ("log_level = loud", "circle.conf:1: log_level: must be trace"),
        ("drain_seconds = nan", "circle.conf:1: drain_seconds: must be a number of seconds"),
        ("host = ,", "circle.conf:1: host: must not be empty"),
        ("tls_cert = /a.pem", "tls_cert and tls_key go together"),
        ("tls_port = 8443", "tls_port needs tls_cert and tls_key"),
        ("port = 9000\nmetrics_port = 9000", "metrics_port must differ from port and tls_port"),
    ])
    func fileRefusals(file: String, message: String) {
        let refused = refusal(file: file)
        #expect(refused?.hasPrefix(message) == true, "\(refused ?? "accepted")")
    }

    @Test func environmentValuesAreCheckedWithTheirVariableName() {
        #expect(refusal(environment: ["CIRCLE_PORT": "abc"]) == "CIRCLE_PORT: port: must be an integer 0…65535")
    }

    @Test func unknownCircleVariablesAreIgnored() throws {
        // CI systems set CIRCLE_BRANCH, CIRCLE_SHA1 and more.
        let s = try resolve(environment: ["CIRCLE_BRANCH": "main", "CIRCLE_SHA1": "abc"])
        #expect(s == ServeSettings())
    }

    @Test func secretFollowsThePrecedenceAndIsNeverCopied() throws {
        let fromEnvironment = try resolve(environment: ["CIRCLE_SECRET": "a secret of at least 16 bytes"],
                                          file: "secret_file = /etc/circle/secret")
        #expect(fromEnvironment.secret == .environment)
        #expect(!fromEnvironment.described.contains("a secret of"))
        let fromFlag = try resolve(flags: layer([("secret-file", ["/run/secret"])], origin: "--secret-file"),
                                   environment: ["CIRCLE_SECRET": "a secret of at least 16 bytes"])
        #expect(fromFlag.secret == .file("/run/secret"))
        let fromFile = try resolve(file: "secret_file = /etc/circle/secret")
        #expect(fromFile.secret == .file("/etc/circle/secret"))
        #expect(fromFile.origins["secret"] == "circle.conf:1")
    }

    @Test func twoSecretsInTheEnvironmentAreRefused() {
        let refused = refusal(environment: ["CIRCLE_SECRET": "x", "CIRCLE_SECRET_FILE": "/run/secret"])
        #expect(refused == "both CIRCLE_SECRET_FILE and CIRCLE_SECRET give the secret; keep one")
    }

    @Test func describedIsAConfigFileThatResolvesToTheSame() throws {
        let s = try resolve(environment: ["CIRCLE_METRICS_PORT": "9100"],
                            file: "host = 127.0.0.1, ::1\nlog_format = json\nallow_origin = https://a.example")
        let again = try resolve(file: s.described)
        #expect(again.hosts == s.hosts && again.logFormat == .json && again.metricsPort == 9100)
        #expect(again.allowOrigins == ["https://a.example"])
    }

    @Test func oversizedFileIsRefused() {
        let big = String(repeating: "# filler\n", count: SettingsLayer.maxFileBytes / 9 + 1)
        #expect(throws: SettingsError.self) { _ = try SettingsLayer.file(big, path: "big.conf") }
    }
}
