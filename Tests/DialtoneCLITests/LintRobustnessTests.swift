import DialtoneTestKit
import Testing

/// `dialtone sip lint` on hostile or odd inputs: always one valid JSON line, exit 0, no crash.
@Suite struct LintRobustnessTests {
    static let transports = ["udp", "tcp"]

    @Test(arguments: transports)
    func garbageAndEmptyFiles(transport: String) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var rng = SeededGenerator(seed: 4475)
        let garbage = try dir.write("garbage.bin", rng.bytes(4096))
        let empty = try dir.write("empty.sip", [])
        let (lines, _) = try lint(["--transport", transport, garbage, empty])
        try #require(lines.count == 2)
        #expect(lines[0].file == garbage)
        #expect(lines[0].verdict == "reject", "random octets are not a SIP message: \(lines[0].json)")
        #expect(lines[1].file == empty)
        #expect(lines[1].reason?.hasPrefix("cannot read file") != true)
    }

    /// Random octets and randomly damaged RFC 4475 messages, many files in one run.
    @Test(arguments: transports)
    func mutatedMessages(transport: String) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var rng = SeededGenerator(seed: 5118)
        let sources = LintRFC4475Tests.allFiles.map(\.path)
        var paths: [String] = []
        for n in 0..<60 {
            var bytes = readFile(sources[Int(rng.next() % UInt64(sources.count))]) ?? []
            switch n % 4 {
            case 0:  // flip octets
                for _ in 0..<8 where !bytes.isEmpty { bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            case 1:  // truncate
                bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count + 1))))
            case 2:  // duplicate a slice
                if !bytes.isEmpty {
                    let a = Int(rng.next() % UInt64(bytes.count))
                    bytes.insert(contentsOf: bytes[a...].prefix(64), at: Int(rng.next() % UInt64(bytes.count)))
                }
            default:  // pure noise of random length
                bytes = rng.bytes(Int(rng.next() % 2048))
            }
            paths.append(try dir.write("m\(n).sip", bytes))
        }
        let (lines, _) = try lint(["--transport", transport] + paths)
        // UDP: exactly one line per file; TCP: at least one per file, in file order.
        if transport == "udp" {
            #expect(lines.map(\.file) == paths)
        } else {
            var seen: [String] = []
            for line in lines where seen.last != line.file { seen.append(line.file ?? "") }
            #expect(seen == paths)
        }
    }

    /// A datagram larger than the message limit is reported as too large; on a stream the header
    /// section outgrows the limit and the connection is closed. Only a bounded prefix is read.
    @Test func oversizedFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let head = Array("OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n".utf8)
        let filler = [UInt8](repeating: UInt8(ascii: "a"), count: 3 << 20)
        let path = try dir.write("big.sip", head + Array("X-Filler: ".utf8) + filler)

        let (udp, _) = try lint([path])
        try #require(udp.count == 1)
        #expect(udp[0].verdict == "reject")
        #expect(udp[0].reason?.contains("65536") == true, "\(udp[0].reason ?? "")")

        let (tcp, _) = try lint(["--transport", "tcp", path])
        try #require(tcp.count == 1)
        #expect(tcp[0].isDrop)
        #expect(tcp[0].reason?.hasPrefix("stream framing error: ") == true, "\(tcp[0].reason ?? "")")
    }

    /// File names with quotes, backslashes, control characters and invalid UTF-8 still give valid
    /// JSON, and the file is read (found by its original octets).
    @Test func oddFileNames() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let message = Fixtures.bytes("rfc4475/valid/esc01.sip")
        let quoted = try dir.write("q\"uo\\te\n\t\u{01}\u{7F}\u{2028}é.sip", message)
        let invalid = try dir.write(rawName: Array("bad".utf8) + [0xFF, 0xC3] + Array(".sip".utf8), message)
        let (lines, _) = try lint(rawArguments: [Array(quoted.utf8), invalid])
        try #require(lines.count == 2)
        #expect(lines[0].file == quoted)
        #expect(lines[0].isAccept)
        #expect(lines[1].file == String(decoding: invalid, as: UTF8.self))
        #expect(lines[1].file?.contains("\u{FFFD}") == true)
        #expect(lines[1].isAccept, "non-UTF-8 name not opened: \(lines[1].reason ?? "")")
    }

    /// A file that cannot be read gets its own line and exit status 1; the other files are still
    /// checked.
    @Test(arguments: transports)
    func unreadableFiles(transport: String) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let missing = dir.path + "/does-not-exist.sip"
        let good = rfc4475Path("valid/esc01")
        let (lines, result) = try lint(["--transport", transport, missing, good, dir.path], expectExit: nil)
        #expect(result.exitStatus == 1)
        try #require(lines.count == 3)
        #expect(lines.map(\.file) == [missing, good, dir.path])
        for bad in [lines[0], lines[2]] {
            #expect(bad.verdict == "reject")
            #expect(bad.response?.isNull == true)
            #expect(bad.reason?.hasPrefix("cannot read file: ") == true)
        }
        #expect(lines[0].reason?.contains("No such file") == true)
        #expect(lines[1].isAccept)
    }
}
