#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Access to `Tests/Fixtures`, found relative to this source file so the tests need no resources
/// bundle and no `../shared` (the fixtures are copied into the repository).
public enum Fixtures {
    /// Absolute path of `Tests/Fixtures` in this checkout.
    public static let root: String = {
        // #filePath = <repo>/Sources/DialtoneTestKit/Fixtures.swift
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/Tests/Fixtures"
    }()

    /// Absolute path of a fixture, e.g. `path("rfc4475/valid/esc01.sip")`.
    public static func path(_ relative: String) -> String { root + "/" + relative }

    /// The bytes of a fixture. Traps (it is a test helper) when the file cannot be read.
    public static func bytes(_ relative: String) -> [UInt8] {
        guard let bytes = readFile(path(relative)) else {
            preconditionFailure("fixture not readable: \(path(relative))")
        }
        return bytes
    }

    /// The text of a fixture (UTF-8, invalid sequences repaired).
    public static func text(_ relative: String) -> String {
        String(decoding: bytes(relative), as: UTF8.self)
    }

    /// Rows of a tab-separated fixture whose first line names the columns.
    public static func tsv(_ relative: String) -> [[String: String]] {
        let lines = text(relative).split(separator: "\n", omittingEmptySubsequences: true)
        guard let header = lines.first else { return [] }
        let names = header.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        return lines.dropFirst().map { line in
            let cells = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            var row: [String: String] = [:]
            for (i, name) in names.enumerated() { row[name] = i < cells.count ? cells[i] : "" }
            return row
        }
    }

    /// Names of the regular files in a fixture folder, sorted.
    public static func list(_ relative: String) -> [String] {
        guard let dir = opendir(path(relative)) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasPrefix(".") { continue }
            names.append(name)
        }
        return names.sorted()
    }
}

/// Reads a whole file; nil when it cannot be opened or read.
public func readFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { if errno == EINTR { continue }; return nil }
        if n == 0 { break }
        result.append(contentsOf: chunk[0..<n])
    }
    return result
}
