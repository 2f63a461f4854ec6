import DialtoneTestKit
import Testing

/// `dialtone sip lint --transport tcp`: files are byte streams cut by `SIPStreamFramer`.
@Suite struct LintTCPTests {
    /// RFC 4475 §3.1.2.2: on a stream, a Content-Length beyond the data means waiting for more.
    @Test func contentLengthBeyondTheDataIsIncomplete() throws {
        let (lines, _) = try lint(["--transport", "tcp", rfc4475Path("invalid/clerr")])
        try #require(lines.count == 1)
        #expect(lines[0].verdict == "reject")
        #expect(lines[0].isDrop)
        #expect(lines[0].message == 1)
        #expect(lines[0].reason == "incomplete message at end of stream (waiting for more data)")
    }

    /// RFC 4475 §3.1.2.3 ncl and §3.3.9 mcl01: an unusable Content-Length makes the stream unframeable,
    /// so the connection is closed.
    @Test(arguments: ["invalid/ncl", "semantic/mcl01"])
    func unframeableStreamIsClosed(name: String) throws {
        let (lines, _) = try lint(["--transport", "tcp", rfc4475Path(name)])
        try #require(lines.count == 1)
        #expect(lines[0].verdict == "reject")
        #expect(lines[0].isDrop)
        let reason = lines[0].reason ?? ""
        #expect(reason.hasPrefix("stream framing error: "), "\(reason)")
        #expect(reason.hasSuffix(" (connection closed)"), "\(reason)")
        #expect(reason.contains("Content-Length"), "\(reason)")
    }

    /// Two messages pipelined on one connection (with a CRLFCRLF keepalive between them) give two
    /// lines, numbered, each with its own verdict.
    @Test func pipelinedMessagesGiveOneLineEach() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let first = Fixtures.bytes("rfc4475/semantic/zeromf.sip")      // Max-Forwards: 0
        let second = Fixtures.bytes("rfc4475/invalid/mismatch01.sip")  // CSeq method mismatch
        let path = try dir.write("two.sip", first + Array("\r\n\r\n".utf8) + second)

        let (uas, _) = try lint(["--transport", "tcp", path])
        try #require(uas.count == 2)
        #expect(uas.map(\.message) == [1, 2])
        #expect(uas.allSatisfy { $0.file == path })
        #expect(uas[0].outcome == "accept")  // a UAS answers OPTIONS with Max-Forwards 0
        #expect(uas[1].outcome == "400")

        let (proxy, _) = try lint(["--as", "proxy", "--transport", "tcp", path])
        try #require(proxy.count == 2)
        #expect(proxy[0].outcome == "483")
        #expect(proxy[1].outcome == "400")
    }

    /// Messages that framed are reported before an unfinished one at the end of the stream.
    @Test func completeMessagesThenIncompleteTail() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let message = Fixtures.bytes("rfc4475/semantic/zeromf.sip")
        let path = try dir.write("tail.sip", message + message + Array(message.prefix(40)))
        let (lines, _) = try lint(["--transport", "tcp", path])
        try #require(lines.count == 3)
        #expect(lines.map(\.message) == [1, 2, 3])
        #expect(lines[0].isAccept && lines[1].isAccept)
        #expect(lines[2].isDrop)
        #expect(lines[2].reason?.hasPrefix("incomplete message at end of stream") == true)
    }

    /// Trailing line ends after the last message are not an unfinished message.
    @Test func trailingLineEndsAreNotAMessage() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let message = Fixtures.bytes("rfc4475/valid/esc01.sip")
        let path = try dir.write("crlf.sip", message + Array("\r\n".utf8))
        let (lines, _) = try lint(["--transport", "tcp", path])
        try #require(lines.count == 1)
        #expect(lines[0].isAccept)
        #expect(lines[0].message == 1)
    }

    /// A well-formed message gets the same verdict over TCP as over UDP.
    @Test(arguments: ["valid/esc01", "semantic/bext01", "semantic/invut", "invalid/mismatch02"])
    func sameVerdictAsUDP(name: String) throws {
        let (udp, _) = try lint([rfc4475Path(name)])
        let (tcp, _) = try lint(["--transport", "tcp", rfc4475Path(name)])
        try #require(udp.count == 1 && tcp.count == 1)
        #expect(udp[0].outcome == tcp[0].outcome)
        #expect(udp[0].reason == tcp[0].reason)
    }
}
