#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The package's executables as built alongside the running test bundle (`swift test` builds them
/// into the same `<scratch>/<triple>/debug` folder as `<Package>PackageTests.xctest`).
public enum BuiltProducts {
    /// The folder holding the built executables: `$DIALTONE_BIN_DIR` when set, else the folder of the
    /// running test executable (`/proc/self/exe`, or `CommandLine.arguments[0]`).
    public static let directory: String? = {
        if let env = getenv("DIALTONE_BIN_DIR") { return String(cString: env) }
        var candidates: [String] = []
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if n > 0 {
            candidates.append(String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        if let first = CommandLine.arguments.first { candidates.append(first) }
        for path in candidates {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            // On macOS the test binary sits inside the bundle (`X.xctest/Contents/MacOS/X`); on Linux
            // the `.xctest` file is the test binary itself.
            let folder: ArraySlice<Substring>
            if let bundle = parts.firstIndex(where: { $0.hasSuffix(".xctest") }), bundle < parts.count - 1 {
                folder = parts[..<bundle]
            } else {
                folder = parts.dropLast()
            }
            let dir = folder.joined(separator: "/")
            if !dir.isEmpty { return dir }
        }
        return nil
    }()

    /// The absolute path of a built executable, nil when it is not there.
    public static func executable(_ name: String) -> String? {
        guard let directory else { return nil }
        let path = directory + "/" + name
        return access(path, X_OK) == 0 ? path : nil
    }
}
