import SIPCore
import DialtoneTestKit
import Testing

/// Feeds `chunks` to a framer, collecting every event after each chunk; a thrown error ends the run.
private func frame(_ chunks: [[UInt8]], role: SIPStreamFramer.Role = .server, limits: SIPLimits = .default)
    -> (events: [SIPStreamFramer.Event], error: SIPParseError?)
{
    var framer = SIPStreamFramer(role: role, limits: limits)
    var events: [SIPStreamFramer.Event] = []
    for chunk in chunks {
        framer.append(chunk)
        do {
            while let event = try framer.next() { events.append(event) }
        } catch {
            return (events, error)
        }
    }
    return (events, nil)
}

/// The messages among `events`.
private func messages(_ events: [SIPStreamFramer.Event]) -> [SIPMessage] {
    events.compactMap { if case .message(let m) = $0 { return m } else { return nil } }
}

/// A request with a body and Content-Length, for stream tests.
private func streamRequest(_ n: Int, body: String = "") -> [UInt8] {
    request("MESSAGE", uri: "sip:bob\(n)@example.com", body: body)
}

@Suite("SIPStreamFramer")
struct StreamFramerTests {
    @Test("byte-by-byte delivery of every valid RFC 4475 message gives the datagram parse",
          arguments: RFC4475.names("valid"))
    func byteByByte(name: String) throws {
        let bytes = RFC4475.bytes(name)
        let datagram = try SIPMessage.parse(datagram: bytes)
        let (events, error) = frame(bytes.map { [$0] })
        let framed = messages(events)
        let first = try #require(framed.first)
        #expect(first.serialized() == datagram.serialized())
        #expect(first.startLine == datagram.startLine)
        #expect(Array(first.body) == Array(datagram.body))
        if name == "dblreq" {
            // On a stream the trailing octets are the next message, an INVITE whose Content-Length (150)
            // ends 5 octets before the file does: those 5 (`C` CRLF CRLF) cannot be framed.
            #expect(framed.count == 2)
            #expect(framed.last?.method == .invite)
            #expect(error != nil)
        } else {
            #expect(error == nil)
            #expect(framed.count == 1)
            #expect(events.count == 1)
        }
    }

    @Test("pipelined messages in one chunk come out in order")
    func pipelined() throws {
        let all = streamRequest(1, body: "one") + streamRequest(2) + streamRequest(3, body: "three!")
        let (events, error) = frame([all])
        #expect(error == nil)
        let framed = messages(events)
        #expect(framed.compactMap { $0.requestLine?.uri.sipURI?.user } == ["bob1", "bob2", "bob3"])
        #expect(framed.map { String(decoding: $0.body, as: UTF8.self) } == ["one", "", "three!"])
    }

    @Test("a message split across two chunks at every offset", arguments: ["wsinv", "mpart01", "esc01", "unreason"])
    func splitEverywhere(name: String) throws {
        let bytes = RFC4475.bytes(name)
        let expected = try SIPMessage.parse(datagram: bytes).serialized()
        for cut in 0...bytes.count {
            let (events, error) = frame([Array(bytes[0..<cut]), Array(bytes[cut...])])
            guard error == nil, events.count == 1, case .message(let m) = events[0] else {
                Issue.record("split at \(cut): \(events.count) events, error \(String(describing: error))")
                return
            }
            #expect(m.serialized() == expected, "split at \(cut)")
        }
    }

    @Test("two pipelined messages split at every offset", arguments: [7, 3])
    func splitPipelined(seed: Int) throws {
        let all = streamRequest(seed, body: "abc") + streamRequest(seed + 1, body: "defgh")
        for cut in 0...all.count {
            let (events, error) = frame([Array(all[0..<cut]), Array(all[cut...])])
            #expect(error == nil)
            #expect(messages(events).map { String(decoding: $0.body, as: UTF8.self) } == ["abc", "defgh"], "split at \(cut)")
        }
    }

    @Test("a body that arrives late: nothing until the last octet")
    func lateBody() throws {
        let bytes = streamRequest(1, body: "0123456789")
        let headEnd = try #require(bytes.headerSectionEnd)
        var framer = SIPStreamFramer()
        framer.append(bytes[0..<headEnd])
        #expect(try framer.next() == nil)
        framer.append(bytes[headEnd..<(headEnd + 9)])
        #expect(try framer.next() == nil)
        #expect(try framer.next() == nil)
        framer.append(bytes[(headEnd + 9)...])
        guard case .message(let m)? = try framer.next() else {
            Issue.record("no message")
            return
        }
        #expect(String(decoding: m.body, as: UTF8.self) == "0123456789")
        #expect(try framer.next() == nil)
        #expect(framer.bufferedCount == 0)
    }

    @Test("server role: CRLFCRLF is a ping, also when it arrives byte by byte")
    func ping() throws {
        #expect(frame([Array("\r\n\r\n".utf8)]).events.map(kind) == ["ping"])
        #expect(frame(Array("\r\n\r\n".utf8).map { [$0] }).events.map(kind) == ["ping"])
        #expect(frame([Array("\r\n\r\n\r\n\r\n".utf8)]).events.map(kind) == ["ping", "ping"])
        // A ping between two messages.
        let all = streamRequest(1) + Array("\r\n\r\n".utf8) + streamRequest(2)
        let (events, error) = frame([all])
        #expect(error == nil)
        #expect(events.count == 3)
        #expect(events.map(kind) == ["message", "ping", "message"])
        // Half a ping is not one yet.
        var framer = SIPStreamFramer(role: .server)
        framer.append(Array("\r\n".utf8))
        #expect(try framer.next() == nil)
        framer.append(Array("\r\n".utf8))
        #expect(kind(try framer.next()) == "ping")
    }

    @Test("client role: CRLF is a pong")
    func pong() throws {
        #expect(frame([Array("\r\n".utf8)], role: .client).events.map(kind) == ["pong"])
        #expect(frame([Array("\r\n\r\n".utf8)], role: .client).events.map(kind) == ["pong", "pong"])
        #expect(frame(Array("\r\n".utf8).map { [$0] }, role: .client).events.map(kind) == ["pong"])
        let response = crlf("SIP/2.0 200 OK\nVia: SIP/2.0/TCP a.example.com;branch=z9hG4bK1\nContent-Length: 0\n\n")
        let (events, error) = frame([response + Array("\r\n".utf8)], role: .client)
        #expect(error == nil)
        #expect(events.count == 2)
        #expect(events.map(kind) == ["message", "pong"])
        #expect(messages(events).first?.statusCode == 200)
    }

    @Test("a message without Content-Length on a stream has an empty body")
    func noContentLength() throws {
        let first = crlf("OPTIONS sip:a@example.com SIP/2.0\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\nCall-ID: 1\n\n")
        let (events, error) = frame([first + streamRequest(2)])
        #expect(error == nil)
        let framed = messages(events)
        #expect(framed.count == 2)
        #expect(framed.first?.body.isEmpty == true)
    }

    @Test("a message that frames but does not parse is reported and the stream goes on")
    func malformedButFramed() throws {
        let bad = crlf("OPTIONS sip:a@example.com SIP/7.0\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\nCSeq: 1 OPTIONS\nContent-Length: 2\n\nxy")
        let (events, error) = frame([bad + streamRequest(2)])
        #expect(error == nil)
        #expect(events.count == 2)
        guard case .malformed(let failure) = events[0] else {
            Issue.record("expected .malformed, got \(events[0])")
            return
        }
        #expect(failure.error.code == .badVersion)
        #expect(SIPValidator.verdict(for: failure) == .reject(SIPRejection(status: 505, reason: "Version Not Supported")))
        #expect(messages(events).count == 1)
    }

    @Test("a header section that never ends is an error once it exceeds the message limit")
    func endlessHeaders() {
        var limits = SIPLimits()
        limits.maxMessageSize = 1024
        var chunks = [Array("OPTIONS sip:a@example.com SIP/2.0\r\n".utf8)]
        for i in 0..<200 { chunks.append(Array("X-Filler-\(i): aaaaaaaaaaaaaaaa\r\n".utf8)) }
        let (events, error) = frame(chunks, limits: limits)
        #expect(events.isEmpty)
        #expect(error?.code == .messageTooLarge)
    }

    @Test("a Content-Length above the message limit is an error before the body arrives")
    func hugeContentLength() {
        let head = crlf("MESSAGE sip:a@example.com SIP/2.0\nContent-Length: 99999999\n\n")
        let (events, error) = frame([head])
        #expect(events.isEmpty)
        #expect(error?.code == .messageTooLarge)
        let (_, error2) = frame([crlf("MESSAGE sip:a@example.com SIP/2.0\nContent-Length: 99999999999999999999999\n\n")])
        #expect(error2 != nil)
    }

    @Test("a non-numeric Content-Length makes the stream unframeable")
    func badContentLength() {
        for value in ["abc", "", "1 2", "+5"] {
            let (_, error) = frame([crlf("MESSAGE sip:a@example.com SIP/2.0\nContent-Length: \(value)\n\n")])
            #expect(error?.code == .badContentLength, "\(value)")
        }
    }

    /// A request hidden in the body of a message whose Content-Length the parser could not read.
    static let smuggled = crlf("BYE sip:victim@example.com SIP/2.0\nVia: SIP/2.0/TCP evil;branch=z9hG4bKevil\nCall-ID: s\nCSeq: 1 BYE\nContent-Length: 0\n\n")

    /// Header lines the parser skips. (Named here: Swift 6.0.3 crashes on string interpolation
    /// inside `@Test(arguments:)`.)
    static let unreadableLines = ["Content-Length \(smuggled.count)", "Content-Length\u{0}: \(smuggled.count)"]

    @Test("a header section with a line the parser skips cannot be framed: the body is never read as a message",
          arguments: unreadableLines)
    func unreadableContentLength(line: String) throws {
        let head = crlf("MESSAGE sip:a@example.com SIP/2.0\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\n\(line)\n\n")
        let (events, error) = frame([head + Self.smuggled])
        #expect(!messages(events).contains { $0.method == .bye }, "the body was framed as a message")
        #expect(error?.code == .badHeaderLine)
    }

    @Test("too many header fields on a stream: Content-Length past the limit is not skipped over")
    func tooManyHeadersOnStream() throws {
        var lines = ["MESSAGE sip:a@example.com SIP/2.0"]
        for i in 0..<300 { lines.append("X-H\(i): v") }
        lines.append("Content-Length: \(Self.smuggled.count)")
        let (events, error) = frame([crlf(lines.joined(separator: "\n") + "\n\n") + Self.smuggled])
        #expect(!messages(events).contains { $0.method == .bye }, "the body was framed as a message")
        #expect(error?.code == .tooManyHeaders)
    }

    @Test("memory stays bounded over many messages: the buffer is drained")
    func drained() throws {
        var framer = SIPStreamFramer()
        var count = 0
        for i in 0..<2000 {
            framer.append(streamRequest(i, body: "x"))
            while let event = try framer.next() {
                if case .message = event { count += 1 }
            }
            #expect(framer.bufferedCount == 0)
        }
        #expect(count == 2000)
    }

    @Test("random chunking of a pipelined stream gives the same messages")
    func randomChunks() throws {
        var all: [UInt8] = []
        for name in RFC4475.names("valid") where name != "dblreq" { all += RFC4475.bytes(name) }
        let expected = messages(frame([all]).events).map { $0.serialized() }
        #expect(expected.count == 12)
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<20 {
            var chunks: [[UInt8]] = []
            var i = 0
            while i < all.count {
                let n = Int(generator.next() % 300) + 1
                chunks.append(Array(all[i..<min(all.count, i + n)]))
                i += n
            }
            let (events, error) = frame(chunks)
            #expect(error == nil)
            #expect(messages(events).map { $0.serialized() } == expected)
        }
    }
}
