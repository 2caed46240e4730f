import CircleTestSupport
import Foundation

/// PEM files for the tests, made once per run with the `openssl` command line in a fresh temporary directory:
/// a root CA, an intermediate CA signed by it, and leaves signed by the intermediate (P-256 and RSA-2048), each
/// for `localhost` and `127.0.0.1`.
struct Certificates: Sendable {
    let directory: String
    /// The trust anchor.
    var root: String { path("root.pem") }
    /// A root that signed nothing here.
    var otherRoot: String { path("other-root.pem") }
    /// The P-256 leaf followed by the intermediate: what a server serves.
    var chain: String { path("leaf-chain.pem") }
    /// The P-256 leaf alone: the intermediate missing.
    var leafOnly: String { path("leaf.pem") }
    var leafKey: String { path("leaf.key") }
    /// The leaf key, encrypted with a password.
    var encryptedLeafKey: String { path("leaf-encrypted.key") }
    /// A key that belongs to no certificate here.
    var strayKey: String { path("stray.key") }
    /// The RSA leaf followed by the intermediate, and its key.
    var rsaChain: String { path("rsa-chain.pem") }
    var rsaKey: String { path("rsa.key") }

    func path(_ name: String) -> String { directory + "/" + name }

    /// The shared set; the first caller makes it.
    static func shared() throws -> Certificates { try made.get() }

    private static let made = Result { try Certificates.make(in: temporaryDirectory) }

    /// This process's directory; removed at exit (the keys are throwaway, but don't leave them lying around).
    private static let temporaryDirectory = FileManager.default.temporaryDirectory
        .appendingPathComponent("circle-tls-\(UUID().uuidString)").path

    private static let config = """
        [req]
        distinguished_name = dn
        [dn]
        [root]
        basicConstraints = critical,CA:true
        keyUsage = critical,keyCertSign,cRLSign
        subjectKeyIdentifier = hash
        [intermediate]
        basicConstraints = critical,CA:true,pathlen:0
        keyUsage = critical,keyCertSign,cRLSign
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid
        [leaf]
        basicConstraints = critical,CA:false
        keyUsage = critical,digitalSignature,keyEncipherment
        extendedKeyUsage = serverAuth
        subjectAltName = DNS:localhost,IP:127.0.0.1
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid

        """

    private static func make(in directory: String) throws -> Certificates {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: Certificates.temporaryDirectory) }
        let certificates = Certificates(directory: directory)
        let p = certificates.path
        try config.write(toFile: p("openssl.cnf"), atomically: true, encoding: .utf8)
        let ec = ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out"]
        for name in ["root", "other-root", "intermediate", "leaf", "stray"] { try openssl(ec + [p(name + ".key")]) }
        try openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", p("rsa.key")])
        for (name, subject) in [("root", "Circle Test Root"), ("other-root", "Circle Other Root")] {
            try openssl(["req", "-x509", "-new", "-config", p("openssl.cnf"), "-extensions", "root",
                         "-key", p(name + ".key"), "-subj", "/CN=\(subject)", "-days", "3650",
                         "-out", p(name + ".pem")])
        }
        try sign(
            "intermediate", subject: "Circle Test Intermediate", by: "root", extensions: "intermediate", serial: 2)
        try sign("leaf", subject: "localhost", by: "intermediate", extensions: "leaf", serial: 3)
        try sign("rsa", subject: "localhost", by: "intermediate", extensions: "leaf", serial: 4)
        let intermediate = try String(contentsOfFile: p("intermediate.pem"), encoding: .utf8)
        for leaf in ["leaf", "rsa"] {
            let pem = try String(contentsOfFile: p(leaf + ".pem"), encoding: .utf8)
            try (pem + intermediate).write(toFile: p(leaf + "-chain.pem"), atomically: true, encoding: .utf8)
        }
        try openssl(["pkey", "-in", p("leaf.key"), "-aes256", "-passout", "pass:secret",
                     "-out", p("leaf-encrypted.key")])
        return certificates

        func sign(_ name: String, subject: String, by issuer: String, extensions: String, serial: Int) throws {
            try openssl(["req", "-new", "-config", p("openssl.cnf"), "-key", p(name + ".key"),
                         "-subj", "/CN=\(subject)", "-out", p(name + ".csr")])
            try openssl(["x509", "-req", "-in", p(name + ".csr"), "-CA", p(issuer + ".pem"),
                         "-CAkey", p(issuer + ".key"), "-set_serial", "\(serial)", "-days", "3650",
                         "-extfile", p("openssl.cnf"), "-extensions", extensions, "-out", p(name + ".pem")])
        }
    }

    struct CommandFailed: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `openssl` with `arguments`; throws with its standard error when it fails.
    private static func openssl(_ arguments: [String]) throws {
        let result = try runProcess(["openssl"] + arguments)
        guard result.status == 0 else {
            throw CommandFailed(description: "openssl \(arguments.joined(separator: " ")): " + result.stderr)
        }
    }
}
