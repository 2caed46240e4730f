#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--data-dir`: created with mode 0700 when missing, and held by one process at a time through an exclusive
/// `flock` on `DIR/circle.lock` (released by the kernel when the process dies, even by SIGKILL).
final class DataDirectory {
    let path: String
    private var lockDescriptor: Int32 = -1

    var databasePath: String { path + "/circle.db" }

    /// Creates the directory if missing and takes its lock; throws the typed error for each way this fails.
    init(path: String) throws(StoreError) {
        self.path = path
        if mkdir(path, 0o700) != 0 {
            let code = errno
            switch code {
            case EEXIST: break
            case EROFS: throw .readOnly(path: path)
            case EACCES, EPERM: throw .readOnly(path: path)
            default: throw .directoryUnusable(path: path, errno: code)
            }
        }
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw .directoryUnusable(path: path, errno: ENOTDIR)
        }
        let lockPath = path + "/circle.lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let code = errno
            if code == EROFS || code == EACCES || code == EPERM { throw .readOnly(path: path) }
            throw .directoryUnusable(path: path, errno: code)
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = Self.readPID(fd)
            close(fd)
            if code == EWOULDBLOCK { throw .locked(path: path, holderPID: holder) }
            throw .directoryUnusable(path: path, errno: code)
        }
        lockDescriptor = fd
        // The holder's pid, for the second process's error message.
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        // access(2) answers for the real uid: a write probe on a read-only mount, where root's open(O_CREAT) of an
        // existing lock file would still succeed.
        if access(path, W_OK) != 0 && (errno == EROFS || errno == EACCES) {
            unlock()
            throw .readOnly(path: path)
        }
    }

    deinit { unlock() }

    /// Releases the lock (closing the descriptor releases the flock).
    func unlock() {
        if lockDescriptor >= 0 { close(lockDescriptor) }
        lockDescriptor = -1
    }

    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 15, 0) }
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n").first ?? "")
    }
}
