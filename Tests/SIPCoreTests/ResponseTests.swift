import SIPCore
import Testing

@Suite("SIPMessage.response(to:…)")
struct ResponseTests {
    static let invite = crlf("""
        INVITE sip:bob@biloxi.com SIP/2.0
        Via: SIP/2.0/UDP bigbox3.site3.atlanta.com;branch=z9hG4bK77ef4c2312983.1
        v: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8 , SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKabc
        Max-Forwards: 69
        Record-Route: <sip:bigbox3.site3.atlanta.com;lr>
        To: Bob <sip:bob@biloxi.com>
        From: Alice <sip:alice@atlanta.com>;tag=1928301774
        Call-ID: a84b4c76e66710
        CSeq: 314159 INVITE
        Contact: <sip:alice@pc33.atlanta.com>
        Subject: lunch
        Content-Length: 0


        """)

    @Test("copies Via (all values, in order), From, Call-ID, CSeq byte for byte and adds a To tag")
    func copies() throws {
        let request = try SIPMessage.parse(datagram: Self.invite)
        let response = SIPMessage.response(to: request, status: 200, toTag: "a6c85cf")
        #expect(response.statusCode == 200)
        #expect(response.statusLine?.reason == "OK")
        #expect(response.headers.values(.via) == request.headers.values(.via))
        #expect(try response.vias() == request.vias())
        #expect(response.headers[.from] == request.headers[.from])
        #expect(response.headers[.callID] == request.headers[.callID])
        #expect(response.headers[.cseq] == request.headers[.cseq])
        #expect(response.headers[.to] == "Bob <sip:bob@biloxi.com>;tag=a6c85cf")
        #expect(try response.to().tag == "a6c85cf")
        #expect(try response.from().tag == "1928301774")
        #expect(response.headers[.contentLength] == "0")
        // Not copied: Contact, Subject, Max-Forwards.
        #expect(!response.headers.contains(.contact))
        #expect(!response.headers.contains(.subject))
        #expect(!response.headers.contains(.maxForwards))
        // Record-Route is copied into 2xx (RFC 3261 §12.1.1).
        #expect(response.headers[.recordRoute] == "<sip:bigbox3.site3.atlanta.com;lr>")
        // It serializes and parses back.
        let again = try SIPMessage.parse(datagram: response.serialized())
        #expect(try again.cseq() == CSeq(314159, .invite))
        #expect(try again.to().tag == "a6c85cf")
        #expect(try again.vias().count == 3)
    }

    @Test("a To that already has a tag is copied unchanged")
    func existingTag() throws {
        var request = try SIPMessage.parse(datagram: Self.invite)
        let i = try #require(request.headers.firstIndex(of: .to))
        request.headers.replaceValue(at: i, with: "Bob <sip:bob@biloxi.com>;tag=existing")
        let response = SIPMessage.response(to: request, status: 200, toTag: "new")
        #expect(response.headers[.to] == "Bob <sip:bob@biloxi.com>;tag=existing")
        #expect(try response.to().tag == "existing")
    }

    @Test("100 Trying gets no To tag; error responses get no Record-Route")
    func trying() throws {
        let request = try SIPMessage.parse(datagram: Self.invite)
        let trying = SIPMessage.response(to: request, status: 100, toTag: "t")
        #expect(try trying.to().tag == nil)
        #expect(trying.statusLine?.reason == "Trying")
        let busy = SIPMessage.response(to: request, status: 486, toTag: "t")
        #expect(!busy.headers.contains(.recordRoute))
        #expect(try busy.to().tag == "t")
        let ringing = SIPMessage.response(to: request, status: 180, toTag: "t")
        #expect(ringing.headers.contains(.recordRoute))
    }

    @Test("100 Trying copies the request's Timestamp (RFC 3261 §8.2.6.1); other responses do not")
    func timestamp() throws {
        var request = try SIPMessage.parse(datagram: Self.invite)
        request.headers.append(.timestamp, "54.2 0.3")
        let trying = SIPMessage.response(to: request, status: 100)
        #expect(trying.headers[.timestamp] == "54.2 0.3")
        #expect(!SIPMessage.response(to: request, status: 200, toTag: "t").headers.contains(.timestamp))
    }

    @Test("extra headers and a custom reason phrase; Content-Length comes last")
    func extras() throws {
        let request = try SIPMessage.parse(datagram: Self.invite)
        let response = SIPMessage.response(to: request, status: 420, reason: "Bad Extension", toTag: "x",
                                           extraHeaders: [HeaderField(name: .unsupported, value: "foo")])
        #expect(response.statusLine?.reason == "Bad Extension")
        #expect(try response.optionTags(.unsupported) == ["foo"])
        #expect(response.headers.name(at: response.headers.count - 1) == .contentLength)
        #expect(response.text.hasPrefix("SIP/2.0 420 Bad Extension\r\nVia: "))
    }

    @Test("responding to a rejection: nil without Via")
    func rejecting() throws {
        let request = try SIPMessage.parse(datagram: Self.invite)
        let rejection = SIPRejection(status: 405, headers: [HeaderField(name: .allow, value: "OPTIONS")])
        let response = try #require(SIPMessage.response(to: request, rejecting: rejection, toTag: "r"))
        #expect(response.statusCode == 405)
        #expect(response.statusLine?.reason == "Method Not Allowed")
        #expect(try response.allow() == [.options])
        var noVia = request
        noVia.headers.removeAll(.via)
        #expect(SIPMessage.response(to: noVia, rejecting: rejection) == nil)
    }

    @Test("a 400 for a request that did not parse, built from its partial headers")
    func fromPartial() throws {
        guard case .failure(let failure) = SIPMessage.parseDetailed(datagram: RFC4475.bytes("ncl")) else {
            Issue.record("ncl parsed")
            return
        }
        let partial = try #require(failure.partial)
        guard case .reject(let r) = SIPValidator.verdict(for: failure) else {
            Issue.record("not rejected")
            return
        }
        let response = try #require(SIPMessage.response(to: partial, rejecting: r, toTag: "z"))
        #expect(response.statusCode == 400)
        #expect(try response.topVia().branch == "z9hG4bKkdjuw")
        #expect(try response.callID() == "ncl.0ha0isndaksdj2193423r542w35")
        #expect(try response.to().tag == "z")
        #expect(try response.cseq() == CSeq(0, .invite))
    }
}
