import CLibUV
import Glibc

/// Reads a whole small file synchronously: start-up and configuration (secrets, config files, the web client) and
/// /proc samples — never the loop's hot path.
public enum FileContents {
    /// Why a file could not be read.
    public enum Failure: Error, Equatable, Sendable {
        /// No such file.
        case missing
        /// It exists but cannot be read (permissions, a directory, an I/O error).
        case unreadable
        /// It is larger than the caller's limit.
        case tooLarge
    }

    /// The file's bytes, or why not; refuses files over `maxBytes` without reading further.
    public static func read(_ path: String, maxBytes: Int = 1 << 20) -> Result<[UInt8], Failure> {
        guard let f = fopen(path, "rb") else { return .failure(errno == ENOENT ? .missing : .unreadable) }
        defer { fclose(f) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            out.append(contentsOf: chunk[0..<n])
            if out.count > maxBytes { return .failure(.tooLarge) }
            if n < chunk.count { return ferror(f) != 0 ? .failure(.unreadable) : .success(out) }
        }
    }
}
