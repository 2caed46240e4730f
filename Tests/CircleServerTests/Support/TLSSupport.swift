import CircleClient
import CircleHTTP
import CircleLoop
import CircleServer
import CircleTLS
import CircleWebSocket
import Foundation

/// Two throwaway CAs, each with a P-256 leaf for `localhost` and `127.0.0.1`, made once per test run with the
/// `openssl` command line in a temporary directory (removed at exit). Trusting one CA and not the other tells a
/// client which certificate the server presented.
struct TLSFiles: Sendable {
    enum Issuer: String, Sendable { case a, b }

    let directory: String

    func ca(_ issuer: Issuer) -> String { directory + "/ca-\(issuer.rawValue).pem" }
    func chain(_ issuer: Issuer) -> String { directory + "/leaf-\(issuer.rawValue).pem" }
    func key(_ issuer: Issuer) -> String { directory + "/leaf-\(issuer.rawValue).key" }

    static func shared() throws -> TLSFiles { try made.get() }
    private static let made = Result { try TLSFiles.make() }
    private static let root = FileManager.default.temporaryDirectory
        .appendingPathComponent("circle-server-tls-\(UUID().uuidString)").path

    /// A private copy of issuer's leaf and key, for a server whose files a test replaces (reload).
    func servedCopy(of issuer: Issuer) throws -> TLSSettings {
        let dir = directory + "/served-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        let settings = TLSSettings(certificateChainPath: dir + "/chain.pem", privateKeyPath: dir + "/key.pem")
        try replace(settings, with: issuer)
        return settings
    }

    /// Replaces the served files with issuer's, each by an atomic rename (as an operator should).
    func replace(_ settings: TLSSettings, with issuer: Issuer) throws {
        for (from, to) in [(chain(issuer), settings.certificateChainPath), (key(issuer), settings.privateKeyPath)] {
            try Data(contentsOf: URL(fileURLWithPath: from)).write(to: URL(fileURLWithPath: to), options: .atomic)
        }
    }

    private static func make() throws -> TLSFiles {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: TLSFiles.root) }
        let files = TLSFiles(directory: root)
        let ext = root + "/leaf.ext"
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
            .write(toFile: ext, atomically: true, encoding: .utf8)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        for (issuer, serial) in [(Issuer.a, "0xA1"), (.b, "0xB2")] {
            let csr = root + "/leaf-\(issuer.rawValue).csr"
            let caKey = root + "/ca-\(issuer.rawValue).key"
            try runTool("openssl", ["req", "-x509"] + ec + ["-keyout", caKey, "-out", files.ca(issuer), "-days", "30",
                                    "-subj", "/CN=Circle Server Test CA \(issuer.rawValue)",
                                    "-addext", "basicConstraints=critical,CA:true",
                                    "-addext", "keyUsage=critical,keyCertSign"])
            try runTool("openssl", ["req", "-new"] + ec + ["-keyout", files.key(issuer), "-out", csr,
                                                           "-subj", "/CN=localhost"])
            try runTool("openssl", ["x509", "-req", "-in", csr, "-CA", files.ca(issuer), "-CAkey", caKey,
                                    "-set_serial", serial, "-days", "30", "-extfile", ext,
                                    "-out", files.chain(issuer)])
        }
        return files
    }
}

struct ToolFailed: Error, CustomStringConvertible {
    let description: String
}

/// Runs a command-line tool found on PATH, feeding `input`; returns its exit status and its output and error
/// streams together. Throws only when it cannot be started.
@discardableResult
func runTool(_ tool: String, _ arguments: [String], input: String = "",
             allowFailure: Bool = false) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [tool] + arguments
    let output = Pipe()
    let stdin = Pipe()
    process.standardOutput = output
    process.standardError = output
    process.standardInput = stdin
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try? stdin.fileHandleForWriting.close()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    if process.terminationStatus != 0 && !allowFailure {
        throw ToolFailed(description: "\(tool) \(arguments.joined(separator: " ")): \(text)")
    }
    return (process.terminationStatus, text)
}

extension TestClient {
    /// Opens a wss:// WebSocket to `path` on the server's TLS port, trusting `ca`, and waits for the response head
    /// (or the connection's end: a failed handshake closes it).
    static func webSocketTLS(_ env: TestServer, trusting ca: String?, path: String = "/echo",
                             port: Int? = nil) throws -> (client: TestClient, tls: TLSClientFilter) {
        let port = port ?? env.tlsPort
        let filter = try TLSClientFilter(trusting: ca)
        let client = TestClient()
        client.connectWebSocket(env, port: port, path: path, filter: filter)
        env.run { client.status != nil || client.tcpClosed }
        return (client, filter)
    }

    /// An HTTPS request sent over TLS; the raw response is collected.
    static func rawTLS(_ env: TestServer, trusting ca: String?,
                       _ request: [UInt8]) throws -> (client: TestClient, tls: TLSClientFilter) {
        let filter = try TLSClientFilter(trusting: ca)
        let client = TestClient()
        client.connect(env, port: env.tlsPort, filter: filter, sending: request)
        env.run { client.tcp != nil || client.tcpClosed }
        return (client, filter)
    }
}

extension TestServer {
    /// The server's TLS port.
    var tlsPort: Int { server.tlsAddresses.first?.port ?? 0 }

    /// A server with a plain listener on `port` and a TLS listener on `tlsPort`, serving `settings` (default: a
    /// copy of leaf A).
    static func withTLS(_ settings: TLSSettings? = nil,
                        _ configure: (inout ServerConfiguration) -> Void = { _ in }) throws -> TestServer {
        let tls = try settings ?? TLSFiles.shared().servedCopy(of: .a)
        return try TestServer { config in
            config.tls = tls
            config.tlsPort = 0
            configure(&config)
        }
    }
}
