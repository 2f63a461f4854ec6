#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fresh directory under `$TMPDIR` (or /tmp) for files a test writes; `remove()` deletes it and the
/// regular files in it.
public struct TemporaryDirectory: Sendable {
    public let path: String

    /// Creates `<tmp>/<prefix>XXXXXX`.
    public init(prefix: String = "dialtone-test-") throws(SubprocessError) {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array((base + "/" + prefix + "XXXXXX").utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw SubprocessError(description: "mkdtemp: \(String(cString: strerror(errno)))")
        }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Writes a file named by raw octets (so names that are not UTF-8 can be made); returns its full
    /// path as octets.
    @discardableResult
    public func write(rawName: [UInt8], _ contents: [UInt8]) throws(SubprocessError) -> [UInt8] {
        let full = Array(path.utf8) + [UInt8(ascii: "/")] + rawName
        let fd = (full + [0]).withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            }
        }
        guard fd >= 0 else { throw SubprocessError(description: "open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var offset = 0
        while offset < contents.count {
            let n = contents[offset...].withUnsafeBytes { writeOctets(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SubprocessError(description: "write: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
        return full
    }

    /// Writes a file; returns its full path.
    @discardableResult
    public func write(_ name: String, _ contents: [UInt8]) throws(SubprocessError) -> String {
        String(decoding: try write(rawName: Array(name.utf8), contents), as: UTF8.self)
    }

    /// Deletes the files in the directory, then the directory.
    public func remove() {
        guard let dir = opendir(path) else { return }
        var names: [[CChar]] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix(while: { $0 != 0 })).map { CChar(bitPattern: $0) }
            }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            names.append(name)
        }
        closedir(dir)
        for name in names {
            let full = Array(path.utf8CString.dropLast()) + [0x2F] + name + [0]
            _ = full.withUnsafeBufferPointer { unlink($0.baseAddress!) }
        }
        rmdir(path)
    }
}

// File scope: inside `TemporaryDirectory`, `write` names its own methods.
private func writeOctets(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, buffer, count) }
