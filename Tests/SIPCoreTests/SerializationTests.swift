import SIPCore
import Testing

/// Serialization: parsed messages are written back byte for byte; documented normalisations only.
@Suite("Serialization round trips")
struct SerializationTests {
    @Test("parse → serialize reproduces every valid RFC 4475 message byte for byte (dblreq: up to its Content-Length)",
          arguments: RFC4475.names("valid"))
    func validRoundTrip(name: String) throws {
        let bytes = RFC4475.bytes(name)
        let m = try SIPMessage.parse(datagram: bytes)
        let out = m.serialized()
        if name == "dblreq" {
            // RFC 3261 §18.3: the octets after Content-Length are not part of the message.
            let end = try #require(bytes.headerSectionEnd)
            #expect(out == Array(bytes[0..<end]))
            #expect(out.count < bytes.count)
        } else {
            #expect(out == bytes, "first difference at \(firstDifference(out, bytes))")
        }
    }

    @Test("semantic messages that parse round-trip too", arguments: RFC4475.names("semantic"))
    func semanticRoundTrip(name: String) throws {
        let bytes = RFC4475.bytes(name)
        guard case .success(let m) = SIPMessage.parseDetailed(datagram: bytes) else {
            // Only mcl01 (two Content-Length values) cannot be parsed at all.
            #expect(name == "mcl01")
            return
        }
        #expect(m.serialized() == bytes, "first difference at \(firstDifference(m.serialized(), bytes))")
    }

    @Test("RFC 5118 wire messages round-trip", arguments: RFC5118.parseable)
    func rfc5118RoundTrip(name: String) throws {
        let bytes = RFC5118.wire(name)
        #expect(try SIPMessage.parse(datagram: bytes).serialized() == bytes)
    }

    @Test("a serialized message parses to the same fields", arguments: RFC4475.names("valid"))
    func reparse(name: String) throws {
        let m = try RFC4475.message(name)
        let again = try SIPMessage.parse(datagram: m.serialized())
        #expect(again.startLine == m.startLine)
        #expect(again.headers.fields == m.headers.fields)
        #expect(Array(again.body) == Array(m.body))
    }

    @Test("normalisation: bare LF line ends become CRLF")
    func bareLF() throws {
        let text = "OPTIONS sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\nCall-ID: x\nl: 0\n\n"
        let m = try SIPMessage.parse(datagram: Array(text.utf8))
        #expect(m.serialized() == crlf(text))
    }

    @Test("normalisation: leading CRLFs are dropped")
    func leadingCRLF() throws {
        let bytes = request()
        let m = try SIPMessage.parse(datagram: Array("\r\n\r\n".utf8) + bytes)
        #expect(m.serialized() == bytes)
    }

    @Test("normalisation: the start line is rebuilt from its parts (scheme case, port digits); the version is kept")
    func startLineRebuilt() throws {
        let m = try parseText("OPTIONS SIP:bob@example.com:05060 sip/2.0\nCall-ID: x\nl: 0\n\n")
        #expect(m.text.hasPrefix("OPTIONS sip:bob@example.com:5060 sip/2.0\r\n"))
        let r = try parseText("sip/2.0 200 Fine\tthanks\nCall-ID: x\nl: 0\n\n")
        #expect(r.text.hasPrefix("sip/2.0 200 Fine\tthanks\r\n"))
    }

    @Test("normalisation: whitespace at the end of a header line is not written")
    func trailingWhitespace() throws {
        let m = try parseText("OPTIONS sip:bob@example.com SIP/2.0\nSubject: hi  \nCall-ID: x\t\nl: 0\n\n")
        #expect(m.text == "OPTIONS sip:bob@example.com SIP/2.0\r\nSubject: hi\r\nCall-ID: x\r\nl: 0\r\n\r\n")
    }

    @Test("a message built from parts serializes as expected")
    func built() throws {
        var m = SIPMessage(method: .invite, uri: try URI.parse("sip:bob@biloxi.com"))
        m.headers.append(.via, "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds")
        m.headers.append(.maxForwards, "70")
        m.headers.append(.to, "Bob <sip:bob@biloxi.com>")
        m.headers.append(.from, "Alice <sip:alice@atlanta.com>;tag=1928301774")
        m.headers.append(.callID, "a84b4c76e66710@pc33.atlanta.com")
        m.headers.append(.cseq, "314159 INVITE")
        m.setBody(Array("v=0\r\n".utf8), contentType: "application/sdp")
        #expect(m.text == """
            INVITE sip:bob@biloxi.com SIP/2.0\r
            Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r
            Max-Forwards: 70\r
            To: Bob <sip:bob@biloxi.com>\r
            From: Alice <sip:alice@atlanta.com>;tag=1928301774\r
            Call-ID: a84b4c76e66710@pc33.atlanta.com\r
            CSeq: 314159 INVITE\r
            Content-Length: 5\r
            Content-Type: application/sdp\r
            \r
            v=0\r

            """)
        let again = try SIPMessage.parse(datagram: m.serialized())
        #expect(try again.cseq() == CSeq(314159, .invite))
        #expect(Array(again.body) == Array("v=0\r\n".utf8))
    }

    @Test("a response's status line: three-digit code, default and custom reason phrases")
    func statusLine() throws {
        #expect(SIPMessage(status: 180).text == "SIP/2.0 180 Ringing\r\n\r\n")
        #expect(SIPMessage(status: 486, reason: "Busy, really").text == "SIP/2.0 486 Busy, really\r\n\r\n")
        #expect(SIPMessage(status: 499).text == "SIP/2.0 499 Client Error\r\n\r\n")
        #expect(StatusLine(code: 603).statusClass == 6)
    }
}

@Suite("Header mutation")
struct HeaderMutationTests {
    static let source = request("INVITE", extra: [
        "Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>",
        "X-Keep:   odd   spacing  ;;,",
        "Route: <sip:p3.example.com;lr>",
    ], body: "v=0\r\n")

    @Test("prepending a Via puts it on top and leaves every other line as received")
    func prependVia() throws {
        var m = try SIPMessage.parse(datagram: Self.source)
        m.headers.prepend(.via, "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKproxy1")
        let vias = try m.vias()
        #expect(vias.count == 2)
        #expect(vias[0].host.bare == "proxy.example.com")
        #expect(vias[1].host.bare == "pc33.example.com")
        let expected = Array(Self.source[0..<(Self.source.firstIndex(of: 0x0A)! + 1)])
            + Array("Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKproxy1\r\n".utf8)
            + Array(Self.source[(Self.source.firstIndex(of: 0x0A)! + 1)...])
        #expect(m.serialized() == expected)
    }

    @Test("prepend on a message without the header puts it at the top")
    func prependNew() throws {
        var m = try SIPMessage.parse(datagram: Self.source)
        m.headers.prepend(.recordRoute, "<sip:rr.example.com;lr>")
        #expect(m.headers.name(at: 0) == .recordRoute)
        #expect(try m.recordRoutes().count == 1)
    }

    @Test("removing Route removes every Route field and nothing else")
    func removeRoute() throws {
        var m = try SIPMessage.parse(datagram: Self.source)
        let before = m.headers.count
        #expect(m.headers.removeAll(.route) == 2)
        #expect(m.headers.count == before - 2)
        #expect(try m.routes().isEmpty)
        #expect(!m.text.contains("Route"))
        #expect(m.text.contains("X-Keep:   odd   spacing  ;;,\r\n"))
        #expect(m.headers.removeAll(.route) == 0)
    }

    @Test("removing the first Route value only (a loose-routing proxy, RFC 3261 §16.4)")
    func popRoute() throws {
        var m = try SIPMessage.parse(datagram: Self.source)
        let routes = try m.routes()
        let first = try #require(m.headers.firstIndex(of: .route))
        m.headers.replaceValue(at: first, with: routes[1].description)
        #expect(try m.routes().compactMap { $0.uri.sipURI?.host.bare } == ["p2.example.com", "p3.example.com"])
        #expect(m.headers.name(at: first) == .route)
    }

    @Test("setBody sets Content-Length (and Content-Type), in place")
    func setBody() throws {
        var m = try SIPMessage.parse(datagram: Self.source)
        let position = m.headers.firstIndex(of: .contentLength)
        m.setBody(Array("hello world".utf8), contentType: "text/plain")
        #expect(m.headers[.contentLength] == "11")
        #expect(m.headers.count(of: .contentLength) == 1)
        #expect(m.headers.firstIndex(of: .contentLength) == position)
        #expect(try m.contentType() == MediaType(type: "text", subtype: "plain"))
        let again = try SIPMessage.parse(datagram: m.serialized())
        #expect(Array(again.body) == Array("hello world".utf8))

        m.setBody([])
        #expect(m.headers[.contentLength] == "0")
        #expect(!m.headers.contains(.contentType))
        #expect(try SIPMessage.parse(datagram: m.serialized()).body.isEmpty)
    }

    @Test("setBody replaces a compact Content-Length")
    func setBodyCompact() throws {
        var m = try parseText("OPTIONS sip:b@example.com SIP/2.0\nCall-ID: x\nl: 0\n\n")
        m.setBody(Array("abc".utf8))
        #expect(m.text == "OPTIONS sip:b@example.com SIP/2.0\r\nCall-ID: x\r\nContent-Length: 3\r\n\r\nabc")
    }

    @Test("set, insert, append, remove(at:), replaceValue")
    func editing() throws {
        var m = try parseText("OPTIONS sip:b@example.com SIP/2.0\nX-A: 1\nX-B: 2\nx-a: 3\nl: 0\n\n")
        m.headers.set("X-A", "x")
        #expect(m.headers.values("X-A") == ["x"])
        #expect(m.headers.name(at: 0) == HeaderName("X-A"))
        m.headers.insert("X-C", "c", at: 1)
        m.headers.append("X-D", "d")
        #expect(m.headers.fields.map(\.value) == ["x", "c", "2", "0", "d"])
        m.headers.remove(at: 2)
        m.headers.replaceValue(at: 0, with: "y")
        #expect(m.text == "OPTIONS sip:b@example.com SIP/2.0\r\nX-A: y\r\nX-C: c\r\nl: 0\r\nX-D: d\r\n\r\n")
        m.headers.set("X-E", "e")
        #expect(m.headers.fields.last?.description == "X-E: e")
    }

    @Test("single-letter names are compact forms: A is Accept-Contact, e is Content-Encoding")
    func compactNames() throws {
        var m = try parseText("OPTIONS sip:b@example.com SIP/2.0\na: *;audio\nl: 0\n\n")
        #expect(m.headers[.contentLength] == "0")
        #expect(m.headers["Accept-Contact"] == "*;audio")
        // An untouched field keeps its compact spelling; a replaced one is written with the long name.
        #expect(m.text.contains("\r\na: *;audio\r\n"))
        m.headers.replaceValue(at: 0, with: "*;video")
        #expect(m.text.contains("\r\nAccept-Contact: *;video\r\n"))
        m.headers.append("e", "gzip")
        #expect(m.headers[.contentEncoding] == "gzip")
    }

    @Test("SIPHeaders built from text, iterated as fields")
    func builtHeaders() {
        let h = SIPHeaders([(.via, "SIP/2.0/UDP a.example.com"), (.callID, "abc"), ("X-A", "1")])
        #expect(h.count == 3)
        #expect(h.map(\.rawName) == ["Via", "Call-ID", "X-A"])
        #expect(h[.callID] == "abc")
        #expect(Array(h.valueBytes(at: 2)) == Array("1".utf8))
        #expect(SIPHeaders().isEmpty)
    }
}

/// Index of the first differing octet (or the shorter length), for failure messages.
func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Int {
    for i in 0..<min(a.count, b.count) where a[i] != b[i] { return i }
    return min(a.count, b.count)
}
