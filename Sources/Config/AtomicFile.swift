#if canImport(Glibc)
import Glibc
#endif

/// Whole-file reads and crash-safe replacement, for the configuration file and the registrar's
/// location store (architecture.md: "atomic persistence (temp file, fsync, rename)").
///
/// `write` never leaves a half-written target: it writes a temporary file in the target's directory
/// (same filesystem, so `rename(2)` is atomic), fsyncs it, renames it over the target and fsyncs the
/// directory so that the rename itself survives a power cut. Whatever fails, the target holds either
/// its old contents or the new ones, and the temporary file is removed.
///
///     try AtomicFile.write(Array(json.utf8), to: "/etc/dialtone/dialtone.json")
///     let bytes = try AtomicFile.read("/etc/dialtone/dialtone.json", maxBytes: 1 << 20)  // nil: missing
///
/// One writer per target at a time (the temporary name is fixed: `.<name>.tmp` beside the target, so
/// a file left by a crash is simply overwritten next time).
public enum AtomicFile {
    /// The steps of `write`, for fault injection in tests.
    enum Step: Sendable, Equatable {
        case create
        /// Fails after half the bytes were written.
        case write
        case sync
        case rename
        case syncDirectory
    }

    /// Replaces the file at `path` with `bytes` atomically and durably.
    ///
    /// - Parameter permissions: mode of the new file (the old file's mode is not kept).
    public static func write(_ bytes: [UInt8], to path: String, permissions: UInt32 = 0o600) throws(AtomicFileError) {
        try write(bytes, to: path, permissions: permissions, failingAt: nil)
    }

    /// The directory holding `path` and the temporary file's path.
    static func paths(for path: String) -> (directory: String, temporary: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", "." + path + ".tmp") }
        let directory = slash == path.startIndex ? "/" : String(path[..<slash])
        let name = path[path.index(after: slash)...]
        return (directory, String(path[...slash]) + "." + name + ".tmp")
    }

    static func write(_ bytes: [UInt8], to path: String, permissions: UInt32, failingAt fault: Step?) throws(AtomicFileError) {
        let (directory, temporary) = paths(for: path)
        let fd = fault == .create ? -1 : open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode_t(permissions))
        guard fd >= 0 else {
            throw failure(.create, temporary, fault == .create ? EACCES : errno, "cannot create the temporary file")
        }
        var fileOpen = true
        var renamed = false
        defer {
            if fileOpen { close(fd) }
            if !renamed { unlink(temporary) }
        }
        // Permissions as asked, whatever the umask.
        _ = fchmod(fd, mode_t(permissions))
        let limit = fault == .write ? bytes.count / 2 : bytes.count
        var written = 0
        while written < limit {
            let n = bytes.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress! + written, limit - written)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure(.write, temporary, errno, "write failed")
            }
            written += n
        }
        if fault == .write { throw failure(.write, temporary, EIO, "write failed") }
        if fault == .sync || fsync(fd) != 0 {
            throw failure(.sync, temporary, fault == .sync ? EIO : errno, "fsync failed")
        }
        fileOpen = false
        if close(fd) != 0 { throw failure(.write, temporary, errno, "close failed") }
        if fault == .rename || rename(temporary, path) != 0 {
            throw failure(.rename, path, fault == .rename ? EXDEV : errno, "cannot rename the temporary file over it")
        }
        renamed = true
        let dirfd = fault == .syncDirectory ? -1 : open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirfd >= 0 else { throw failure(.syncDirectory, directory, fault == .syncDirectory ? EIO : errno, "cannot open the directory to fsync it") }
        defer { close(dirfd) }
        // Some filesystems cannot fsync a directory (EINVAL): nothing more can be done there.
        if fsync(dirfd) != 0, errno != EINVAL {
            throw failure(.syncDirectory, directory, errno, "fsync of the directory failed")
        }
    }

    /// The whole file at `path`, or nil when it does not exist.
    ///
    /// - Parameter maxBytes: larger files are refused (`tooLarge`) rather than read into memory.
    public static func read(_ path: String, maxBytes: Int) throws(AtomicFileError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw failure(.read, path, errno, "cannot open")
        }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure(.read, path, errno, "read failed")
            }
            if n == 0 { return out }
            guard out.count + n <= maxBytes else {
                throw AtomicFileError(.tooLarge, path: path, errno: 0, message: "larger than \(maxBytes) bytes")
            }
            out.append(contentsOf: chunk[0..<n])
        }
    }

    private static func failure(_ code: AtomicFileError.Code, _ path: String, _ number: Int32, _ what: String) -> AtomicFileError {
        AtomicFileError(code, path: path, errno: number, message: "\(what): \(String(cString: strerror(number)))")
    }
}
