#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The exact octets of the command-line arguments. `CommandLine.arguments` repairs invalid UTF-8, so
/// a file whose name is not UTF-8 could not be opened through the repaired string; this finds the
/// original octets of an argument from its repaired form.
struct RawArguments {
    private var remaining: [(text: String, bytes: [UInt8])]

    init() {
        var all: [(String, [UInt8])] = []
        let argv = CommandLine.unsafeArgv
        var i = 1
        while i < Int(CommandLine.argc) {
            if let p = argv[i] {
                let bytes = UnsafeBufferPointer(start: p, count: strlen(p)).map { UInt8(bitPattern: $0) }
                all.append((String(decoding: bytes, as: UTF8.self), bytes))
            }
            i += 1
        }
        remaining = all
    }

    /// The octets of the first not yet claimed argument that reads as `text`; `text`'s UTF-8 when
    /// none does.
    mutating func claim(_ text: String) -> [UInt8] {
        if let i = remaining.firstIndex(where: { $0.text == text }) {
            return remaining.remove(at: i).bytes
        }
        return Array(text.utf8)
    }
}
