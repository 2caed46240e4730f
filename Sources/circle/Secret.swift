import ArgumentParser
import CircleLoop
import CircleServer
import Glibc

/// The HS256 secret: from a file (`--secret-file`) or the `CIRCLE_SECRET` environment variable — never a plain flag,
/// which would show in `ps` and shell history. A trailing newline in the file is ignored.
enum Secret {
    static let minimumBytes = 16

    static func load(file: String?) throws -> [UInt8]? {
        var bytes: [UInt8]
        if let file {
            guard let data = readFile(file) else { throw ValidationError("cannot read --secret-file \(file)") }
            bytes = data
        } else if let env = getenv("CIRCLE_SECRET") {
            bytes = Array(String(cString: env).utf8)
        } else {
            return nil
        }
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        guard bytes.count >= minimumBytes else {
            throw ValidationError("the secret must be at least \(minimumBytes) bytes")
        }
        return bytes
    }

    /// The secret from the source the settings chose; nil for none.
    static func load(_ source: SecretSource) throws -> [UInt8]? {
        switch source {
        case .none: nil
        case .file(let path): try load(file: path)
        case .environment: try load(file: nil)
        }
    }

    /// A small file's bytes (at most 1 MiB), or nil.
    static func readFile(_ path: String) -> [UInt8]? {
        try? FileContents.read(path).get()
    }
}
