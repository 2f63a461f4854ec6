#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file opened for reading by its raw path octets, read in bounded pieces; closed when released.
final class FileInput {
    private let fd: Int32

    /// Opens `path`; the error text (strerror) when it cannot.
    static func open(_ path: [UInt8]) -> Result<FileInput, FileError> {
        if path.isEmpty || path.contains(0) { return .failure(FileError(message: "invalid file name")) }
        let fd = (path + [0]).withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                systemOpen($0)
            }
        }
        if fd < 0 { return .failure(FileError(errno: errno)) }
        return .success(FileInput(fd: fd))
    }

    private init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// Up to `limit` octets (fewer only at end of file); empty at end of file.
    func read(upTo limit: Int) -> Result<[UInt8], FileError> {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(max(limit, 1), 65_536))
        while result.count < limit {
            let want = min(chunk.count, limit - result.count)
            let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, want) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(FileError(errno: errno))
            }
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<n])
        }
        return .success(result)
    }
}

struct FileError: Error {
    var message: String

    init(message: String) { self.message = message }

    init(errno code: Int32) {
        message = strerror(code).map { String(cString: $0) } ?? "error \(code)"
    }
}

// File-scope wrappers: inside `FileInput`, `open` and `read` name its own members.
private func systemOpen(_ path: UnsafePointer<CChar>) -> Int32 { open(path, O_RDONLY | O_CLOEXEC) }

private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { read(fd, buffer, count) }
