import SIPCore
import Testing

/// A small request with `extra` header lines (written with `\n`; CRLF on the wire).
private func message(_ extra: [String], method: String = "OPTIONS") throws -> SIPMessage {
    try SIPMessage.parse(datagram: request(method, extra: extra))
}

/// A message made only of the given header lines after a request line.
private func bare(_ lines: [String]) throws -> SIPMessage {
    try parseText((["INVITE sip:bob@example.com SIP/2.0"] + lines).joined(separator: "\n") + "\n\n")
}

@Suite("Header names")
struct HeaderNameTests {
    @Test("names compare case-insensitively and compact forms fold onto long names", arguments: [
        ("v", "Via"), ("V", "VIA"), ("f", "From"), ("t", "to"), ("i", "Call-ID"), ("m", "Contact"), ("l", "Content-Length"),
        ("c", "Content-Type"), ("k", "Supported"), ("o", "Event"), ("r", "Refer-To"), ("x", "Session-Expires"),
        ("s", "Subject"), ("e", "Content-Encoding"), ("u", "Allow-Events"), ("b", "Referred-By"), ("cSeQ", "CSEQ"),
        ("call-id", "CALL-ID"),
    ])
    func folding(compact: String, long: String) {
        #expect(HeaderName(compact) == HeaderName(long))
        #expect(HeaderName(compact).isKnown)
        #expect(HeaderName(compact).hashValue == HeaderName(long).hashValue)
        #expect(HeaderName(compact).canonical == HeaderName(long).canonical)
    }

    @Test("canonical spellings and compact forms of known names")
    func canonical() {
        #expect(HeaderName("VIA").canonical == "Via")
        #expect(HeaderName("call-id").canonical == "Call-ID")
        #expect(HeaderName.via.compactForm == "v")
        #expect(HeaderName.cseq.compactForm == nil)
        #expect(HeaderName.contentLength.compactForm == "l")
        #expect(HeaderName.sessionExpires.compactForm == "x")
    }

    @Test("unknown names keep their spelling and compare case-insensitively")
    func unknown() {
        let a = HeaderName("X-Custom"), b = HeaderName("x-CUSTOM")
        #expect(!a.isKnown)
        #expect(a == b)
        #expect(Set([a, b]).count == 1)
        #expect(a.canonical == "X-Custom")
        #expect(a != HeaderName("X-Custom2"))
        #expect(HeaderName("q") != HeaderName("Q-Header"))
        #expect(!HeaderName("q").isKnown)
    }

    @Test("lookups in a message ignore the case and form the name was written in")
    func lookups() throws {
        let m = try bare(["vIa: SIP/2.0/UDP a.example.com;branch=z9hG4bK1", "CALL-ID: abc", "x-foo: 1", "X-FOO: 2", "l: 0"])
        #expect(m.headers[.via] == "SIP/2.0/UDP a.example.com;branch=z9hG4bK1")
        #expect(m.headers[.callID] == "abc")
        #expect(m.headers["x-Foo"] == "1")
        #expect(m.headers.values("X-Foo") == ["1", "2"])
        #expect(m.headers.count(of: "x-foo") == 2)
        #expect(m.headers[.contentLength] == "0")
        #expect(m.headers[0].rawName == "vIa")
        #expect(m.headers[0].name == .via)
        #expect(m.headers[4].rawName == "l")
        #expect(m.headers.name(at: 2) == HeaderName("X-FOO"))
    }
}

@Suite("Typed header views")
struct HeaderViewTests {
    // MARK: Via

    @Test("Via with received, rport, maddr, ttl and a port")
    func viaParameters() throws {
        let m = try bare(["Via: SIP/2.0/UDP 192.0.2.1:5060;received=192.0.2.99;rport=5061;maddr=224.2.0.1;ttl=16;branch=z9hG4bKabc"])
        let via = try m.topVia()
        #expect(via.transport == "UDP")
        #expect(via.host == .ipv4("192.0.2.1"))
        #expect(via.port == 5060)
        #expect(via.sentBy == "192.0.2.1:5060")
        #expect(via.received == "192.0.2.99")
        #expect(via.rport == .some(5061))
        #expect(via.maddr == "224.2.0.1")
        #expect(via.ttl == "16")
        #expect(via.branch == "z9hG4bKabc")
        #expect(via.hasRFC3261Branch)
        #expect(!via.isReliable)
        #expect(via.description == "SIP/2.0/UDP 192.0.2.1:5060;received=192.0.2.99;rport=5061;maddr=224.2.0.1;ttl=16;branch=z9hG4bKabc")
    }

    @Test("Via: rport without a value is a request for it; transport is upper-cased; IPv6 sent-by")
    func viaRport() throws {
        let via = try Via(parsing: "SIP/2.0/tcp [2001:db8::1]:5070;rport;branch=z9hG4bK77")
        #expect(via.rport == .some(nil))
        #expect(via.transport == "TCP")
        #expect(via.isReliable)
        #expect(via.host == .ipv6("2001:db8::1"))
        #expect(via.port == 5070)
        #expect(via.sentBy == "[2001:db8::1]:5070")
        #expect(try Via(parsing: "SIP/2.0/UDP a.example.com").rport == nil)
    }

    @Test("Via: mutating received and branch")
    func viaMutation() throws {
        var via = try Via(parsing: "SIP/2.0/UDP a.example.com;branch=z9hG4bK1")
        via.received = "192.0.2.7"
        via.branch = "z9hG4bK2"
        #expect(via.description == "SIP/2.0/UDP a.example.com;branch=z9hG4bK2;received=192.0.2.7")
        via.received = nil
        #expect(via.received == nil)
        #expect(via.parameters.count == 1)
    }

    @Test("malformed Via values are errors naming Via", arguments: [
        "SIP/2.0/UDP", "SIP/2.0 host.example.com", "SIP/2.0/UDP host.example.com;ttl=256", "SIP/2.0/UDP host.example.com;rport=0",
        "SIP/2.0/UDP host.example.com;rport=65536", "SIP/2.0/UDP host.example.com;branch=", "SIP/2.0/UDP host.example.com;branch",
        "SIP/2.0/UDP host.example.com;received=not/an/address", "SIP/2.0/UDP host.example.com:99999", "SIP/2.0/UDP [::1",
        "SIP/2.0/UDP host.example.com;;", "SIP/2.0/UDP host.example.com junk", "SIP/2.0/UDP 2001:db8::1",
    ])
    func badVia(value: String) {
        let error = viewError { try Via(parsing: value) }
        #expect(error?.header == "Via", "\(value)")
        #expect(error?.code == .badHeaderValue || error?.code == .badURI, "\(value)")
    }

    @Test("Via values on one line and across lines, in order, compact and long names mixed")
    func viaList() throws {
        let m = try bare([
            "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com;branch=z9hG4bK2",
            "v: SIP/2.0/TLS c.example.com;branch=z9hG4bK3",
            "VIA: SIP/2.0/UDP d.example.com;branch=z9hG4bK4 ,",
            " SIP/2.0/UDP e.example.com;branch=z9hG4bK5",
        ])
        let vias = try m.vias()
        #expect(vias.map(\.host.bare) == ["a.example.com", "b.example.com", "c.example.com", "d.example.com", "e.example.com"])
        #expect(vias.map(\.branch) == ["z9hG4bK1", "z9hG4bK2", "z9hG4bK3", "z9hG4bK4", "z9hG4bK5"])
        #expect(try m.topVia().host.bare == "a.example.com")
        #expect(m.headers.count(of: .via) == 3)
        #expect(m.headers.listValues(.via).count == 5)
        #expect(m.headers.listValues(.via)[3] == "SIP/2.0/UDP d.example.com;branch=z9hG4bK4")
    }

    @Test("an empty element in a Via list is an error")
    func viaEmptyElement() throws {
        let m = try bare(["Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1,,SIP/2.0/UDP b.example.com"])
        #expect(viewError { try m.vias() }?.message.contains("empty") == true)
        #expect(viewError { try bare([]).topVia() }?.header == "Via")
    }

    // MARK: Compact forms

    @Test("every compact form reads through its typed view")
    func compactForms() throws {
        let m = try SIPMessage.parse(datagram: crlf(["INVITE sip:bob@example.com SIP/2.0",
            "v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1",
            "f: <sip:alice@example.com>;tag=88",
            "t: sip:bob@example.com",
            "i: abc@host",
            "m: <sip:alice@192.0.2.1>",
            "c: application/sdp",
            "k: 100rel, timer",
            "o: presence;id=7",
            "r: <sip:carol@example.com>",
            "x: 1800;refresher=uas",
            "s: lunch",
            "b: <sip:alice@example.com>",
            "e: gzip",
            "CSeq: 1 INVITE",
            "l: 5",
        ].joined(separator: "\n") + "\n\n") + Array("v=0\r\n".utf8))
        #expect(try m.topVia().host.bare == "a.example.com")
        #expect(try m.from().tag == "88")
        #expect(try m.to().uri.sipURI?.user == "bob")
        #expect(try m.callID() == "abc@host")
        #expect(try m.contact() == .addresses([NameAddress(uri: .sip(SIPURI(user: "alice", host: .ipv4("192.0.2.1"))))]))
        #expect(try m.contentType() == .sdp)
        #expect(try m.optionTags(.supported) == ["100rel", "timer"])
        #expect(try m.event()?.value == "presence")
        #expect(try m.event()?.parameter("id") == "7")
        #expect(try m.referTo()?.uri.sipURI?.user == "carol")
        let se = try #require(try m.sessionExpires())
        #expect(se.seconds == 1800 && se.refresher == "uas")
        #expect(m.headers[.subject] == "lunch")
        #expect(try m.referredBy()?.uri.sipURI?.user == "alice")
        #expect(m.headers[.contentEncoding] == "gzip")
        #expect(Array(m.body) == Array("v=0\r\n".utf8))
    }

    // MARK: Folding

    @Test("folded values read as one line with single spaces")
    func folding() throws {
        let m = try bare([
            "Subject: I know you're there,",
            "   pick up the phone",
            "\tand talk to me!",
            "X-Empty-Fold:",
            " value",
        ])
        #expect(m.headers[.subject] == "I know you're there, pick up the phone and talk to me!")
        #expect(m.headers["X-Empty-Fold"] == "value")
        let index = try #require(m.headers.firstIndex(of: .subject))
        // The raw octets keep the fold.
        #expect(Array(m.headers.valueBytes(at: index)).containsSequence([0x0D, 0x0A, 0x20]))
    }

    // MARK: From, To, Call-ID, CSeq, Max-Forwards

    @Test("From and To: display names, tags, addr-spec parameters")
    func fromTo() throws {
        let m = try bare([
            "From: \"Alice Smith\" <sip:alice@atlanta.com>;tag=1928301774",
            "To: Bob Q Public <sip:bob@biloxi.com>",
        ])
        let from = try m.from()
        #expect(from.displayName == "Alice Smith")
        #expect(from.tag == "1928301774")
        let to = try m.to()
        #expect(to.displayName == "Bob Q Public")
        #expect(to.tag == nil)
        let addrSpec = try NameAddress(parsing: "sip:+12125551212@server.phone2net.com;tag=887s")
        #expect(addrSpec.tag == "887s")
        #expect(addrSpec.uri.sipURI?.parameters.isEmpty == true)
        #expect(!addrSpec.bracketed)
        var tagged = to
        tagged.tag = "a6c85cf"
        #expect(tagged.description == "\"Bob Q Public\" <sip:bob@biloxi.com>;tag=a6c85cf")
    }

    @Test("a name-addr is written with <…> whenever the URI would otherwise be misread")
    func nameAddrBrackets() throws {
        let plain = NameAddress(uri: try URI.parse("sip:alice@atlanta.com"), bracketed: false)
        #expect(plain.description == "sip:alice@atlanta.com")
        let cases: [(URI, String)] = [
            (try URI.parse("sip:alice@atlanta.com;transport=tcp"), "<sip:alice@atlanta.com;transport=tcp>"),
            (try URI.parse("sip:alice@atlanta.com?subject=x"), "<sip:alice@atlanta.com?subject=x>"),
            (try URI.parse("sip:a;b=c@atlanta.com"), "<sip:a;b=c@atlanta.com>"),
            (try URI.parse("sip:alice:pw,x@atlanta.com"), "<sip:alice:pw,x@atlanta.com>"),
            (try URI.parse("tel:+1555;phone-context=example.com"), "<tel:+1555;phone-context=example.com>"),
            (try URI.parse("urn:a;b"), "<urn:a;b>"),
            (try URI.parse("http://example.com/a,b"), "<http://example.com/a,b>"),
        ]
        for (uri, text) in cases {
            var address = NameAddress(uri: uri, bracketed: false)
            address.tag = "1"
            #expect(address.description == text + ";tag=1")
            // It reads back as the same URI and parameters.
            let again = try NameAddress(parsing: address.description)
            #expect(again.uri == uri)
            #expect(again.tag == "1")
        }
    }

    @Test("a fold inside a quoted display name reads as one space")
    func foldedDisplayName() throws {
        let m = try bare(["From: \"Alice  ", "   Smith\" <sip:alice@atlanta.com>;tag=1", "To: \"Bob\"", "\t<sip:bob@biloxi.com>"])
        #expect(try m.from().displayName == "Alice Smith")
        #expect(try m.from().description == "\"Alice Smith\" <sip:alice@atlanta.com>;tag=1")
        #expect(try m.to().displayName == "Bob")
    }

    @Test("name-addr faults name the header", arguments: [
        ("From", "\"Alice <sip:alice@atlanta.com>"), ("From", "Alice, Smith <sip:alice@atlanta.com>"),
        ("To", "<sip:bob@biloxi.com"), ("To", "\"Bob\" sip:bob@biloxi.com"), ("To", "< sip:bob@biloxi.com>"),
        ("To", "sip:bob@biloxi.com?subject=x"),
    ])
    func badNameAddr(header: String, value: String) throws {
        let m = try bare(["\(header): \(value)"])
        let error = viewError { header == "From" ? try m.from() : try m.to() }
        #expect(error?.header == header, "\(value): \(String(describing: error))")
    }

    @Test("Call-ID: word[@word]")
    func callID() throws {
        #expect(try bare(["Call-ID: f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com"]).callID() == "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com")
        for bad in ["a b", "@host", "a@", "a@b@c", ""] {
            #expect(viewError { try bare(["Call-ID: \(bad)"]).callID() }?.header == "Call-ID", "\(bad)")
        }
    }

    @Test("CSeq: number and method; 32-bit bound")
    func cseq() throws {
        #expect(try bare(["CSeq: 4711 INVITE"]).cseq() == CSeq(4711, .invite))
        #expect(try bare(["CSeq: 4294967295 ACK"]).cseq().sequence == UInt32.max)
        #expect(try CSeq(parsing: "0009 BYE") == CSeq(9, .bye))
        #expect(CSeq(1, .register).description == "1 REGISTER")
        for bad in ["INVITE", "1", "4294967296 INVITE", "1INVITE", "-1 INVITE", "1 INVITE x"] {
            #expect(viewError { try bare(["CSeq: \(bad)"]).cseq() }?.header == "CSeq", "\(bad)")
        }
    }

    @Test("Max-Forwards: 0–255; absent is nil")
    func maxForwards() throws {
        #expect(try bare(["Max-Forwards: 70"]).maxForwards() == 70)
        #expect(try bare(["Max-Forwards: 255"]).maxForwards() == 255)
        #expect(try bare([]).maxForwards() == nil)
        #expect(viewError { try bare(["Max-Forwards: 256"]).maxForwards() }?.header == "Max-Forwards")
        #expect(viewError { try bare(["Max-Forwards: seventy"]).maxForwards() }?.header == "Max-Forwards")
    }

    // MARK: Contact

    @Test("Contact: *")
    func contactWildcard() throws {
        #expect(try bare(["Contact: *"]).contact() == .wildcard)
        #expect(try bare(["Contact:  * "]).contact() == .wildcard)
        #expect(try bare([]).contact() == nil)
        let mixed = try bare(["Contact: *", "Contact: <sip:a@b.com>"])
        #expect(viewError { try mixed.contact() }?.header == "Contact")
    }

    @Test("Contact: q and expires, lists on one line and across lines, quoted commas")
    func contactList() throws {
        let m = try bare([
            "Contact: \"Doe, John\" <sip:john@192.0.2.1>;q=0.7;expires=3600, <sip:john@192.0.2.2>;q=1",
            "m: sip:john@192.0.2.3;q=0.0",
        ])
        guard case .addresses(let contacts)? = try m.contact() else {
            Issue.record("not addresses")
            return
        }
        #expect(contacts.count == 3)
        #expect(contacts[0].displayName == "Doe, John")
        #expect(try contacts[0].qValue() == 0.7)
        #expect(try contacts[0].expires() == 3600)
        #expect(try contacts[1].qValue() == 1.0)
        #expect(try contacts[1].expires() == nil)
        #expect(try contacts[2].qValue() == 0.0)
        #expect(contacts[2].uri.sipURI?.host == .ipv4("192.0.2.3"))
    }

    @Test("Contact: q above 1, malformed q, expires beyond 32 bits are errors", arguments: [
        "<sip:a@b.com>;q=1.5", "<sip:a@b.com>;q=2", "<sip:a@b.com>;q=0.1234", "<sip:a@b.com>;q=abc", "<sip:a@b.com>;q=1.001",
        "<sip:a@b.com>;expires=4294967296", "<sip:a@b.com>;expires=-1", "<sip:a@b.com>;q=.5",
    ])
    func contactBadParameters(value: String) throws {
        let m = try bare(["Contact: \(value)"])
        #expect(viewError { try m.contact() }?.header == "Contact", "\(value)")
    }

    // MARK: Route, Record-Route, Path

    @Test("Route and Record-Route lists keep their order across fields")
    func routes() throws {
        let m = try bare([
            "Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>",
            "Record-Route: <sip:rr1.example.com;lr>",
            "Route: <sip:p3.example.com;lr>",
            "Record-Route: <sip:rr2.example.com;lr>,<sip:rr3.example.com;lr>",
            "Path: <sip:P3.EXAMPLEHOME.COM;lr>,<sip:P1.EXAMPLEVISITED.COM;lr>",
        ])
        #expect(try m.routes().compactMap { $0.uri.sipURI?.host.bare } == ["p1.example.com", "p2.example.com", "p3.example.com"])
        #expect(try m.routes().allSatisfy { $0.uri.sipURI?.isLooseRouter == true })
        #expect(try m.recordRoutes().compactMap { $0.uri.sipURI?.host.bare } == ["rr1.example.com", "rr2.example.com", "rr3.example.com"])
        #expect(try m.path().count == 2)
        #expect(try bare([]).routes().isEmpty)
        #expect(viewError { try bare(["Route: sip:p1.example.com;lr"]).routes() }?.header == "Route")
        #expect(viewError { try bare(["Record-Route: sip:p1.example.com"]).recordRoutes() }?.header == "Record-Route")
    }

    // MARK: Content-Type, Accept

    @Test("Content-Type with parameters, quoted values kept with their quotes")
    func contentType() throws {
        let m = try bare(["Content-Type: multipart/mixed ; boundary=\"abc def\";charset=UTF-8"])
        let type = try #require(try m.contentType())
        #expect(type.type == "multipart" && type.subtype == "mixed")
        #expect(type.parameters.parameter("boundary") == .some("\"abc def\""))
        #expect(type.parameters.parameter("CHARSET") == .some("UTF-8"))
        #expect(type.description == "multipart/mixed;boundary=\"abc def\";charset=UTF-8")
        #expect(type.matches(MediaType(type: "MULTIPART", subtype: "*")))
        #expect(!type.matches(.sdp))
        #expect(try MediaType(parsing: "Application/SDP").matches(.sdp))
        #expect(try bare([]).contentType() == nil)
        #expect(viewError { try bare(["Content-Type: application"]).contentType() }?.header == "Content-Type")
        #expect(viewError { try bare(["c: application/sdp, text/plain"]).contentType() }?.header == "Content-Type")
    }

    @Test("Accept: lists across fields; empty Accept is an empty list; absent is nil")
    func accept() throws {
        let m = try bare(["Accept: application/sdp;level=1, text/*", "Accept: message/sipfrag"])
        #expect(try m.accept()?.map(\.description) == ["application/sdp;level=1", "text/*", "message/sipfrag"])
        #expect(try bare(["Accept: "]).accept()?.isEmpty == true)
        #expect(try bare([]).accept() == nil)
    }

    // MARK: Option tags, Allow

    @Test("Supported, Require, Proxy-Require, Unsupported lists")
    func optionTags() throws {
        let m = try bare([
            "Supported: 100rel, timer", "k: path", "Require: 100rel", "Proxy-Require: sec-agree,foo", "Unsupported: bar",
        ])
        #expect(try m.optionTags(.supported) == ["100rel", "timer", "path"])
        #expect(try m.optionTags(.require) == ["100rel"])
        #expect(try m.optionTags(.proxyRequire) == ["sec-agree", "foo"])
        #expect(try m.optionTags(.unsupported) == ["bar"])
        #expect(try bare(["Supported:"]).optionTags(.supported).isEmpty)
        #expect(viewError { try bare(["Require:"]).optionTags(.require) }?.header == "Require")
        #expect(viewError { try bare(["Require: a b"]).optionTags(.require) }?.header == "Require")
        #expect(viewError { try bare(["Supported: a,,b"]).optionTags(.supported) }?.header == "Supported")
    }

    @Test("Allow: methods across fields; absent is nil")
    func allow() throws {
        let m = try bare(["Allow: INVITE, ACK, OPTIONS,CANCEL", "Allow: BYE"])
        #expect(try m.allow() == [.invite, .ack, .options, .cancel, .bye])
        #expect(try bare([]).allow() == nil)
        #expect(try bare(["Allow:"]).allow() == [])
    }

    // MARK: Event package headers, REFER, Replaces

    @Test("Event and Subscription-State")
    func eventAndState() throws {
        let m = try bare(["Event: dialog.winfo;id=1234", "Subscription-State: terminated;reason=timeout;retry-after=30"])
        let event = try #require(try m.event())
        #expect(event.value == "dialog.winfo")
        #expect(event.parameter("id") == "1234")
        let state = try #require(try m.subscriptionState())
        #expect(state.value == "terminated")
        #expect(state.parameter("reason") == "timeout")
        #expect(state.parameter("retry-after") == "30")
        #expect(try bare(["Subscription-State: active;expires=600"]).subscriptionState()?.parameter("expires") == "600")
        #expect(try bare([]).event() == nil)
        #expect(viewError { try bare(["Event: ;id=1"]).event() }?.header == "Event")
        #expect(viewError { try bare(["Event: a", "Event: b"]).event() }?.header == "Event")
    }

    @Test("Refer-To with an embedded Replaces header, Referred-By")
    func referTo() throws {
        let m = try bare([
            "Refer-To: <sip:carol@example.com?Replaces=12345%40192.0.2.1%3Bto-tag%3D1%3Bfrom-tag%3D2>;method=INVITE",
            "Referred-By: <sip:alice@example.com>",
        ])
        let referTo = try #require(try m.referTo())
        let uri = try #require(referTo.uri.sipURI)
        #expect(uri.headers == [Parameter("Replaces", "12345%40192.0.2.1%3Bto-tag%3D1%3Bfrom-tag%3D2")])
        #expect(referTo.parameters.parameter("method") == .some("INVITE"))
        #expect(try m.referredBy()?.uri.sipURI?.user == "alice")
        #expect(try bare([]).referTo() == nil)
    }

    @Test("Replaces: call-id with to-tag, from-tag and early-only")
    func replaces() throws {
        let m = try bare(["Replaces: 425928@bobster.example.org;to-tag=7743;from-tag=6472;early-only"])
        let r = try #require(try m.replaces())
        #expect(r.value == "425928@bobster.example.org")
        #expect(r.parameter("to-tag") == "7743")
        #expect(r.parameter("from-tag") == "6472")
        #expect(r.parameters.has("early-only"))
        #expect(viewError { try bare(["Replaces: 425928@bobster.example.org;to-tag=7743"]).replaces() }?.header == "Replaces")
    }

    @Test("Reason: several values, quoted text")
    func reason() throws {
        let m = try bare(["Reason: SIP ;cause=580;text=\"Precondition Failure\", Q.850;cause=16;text=\"Terminated\""])
        let reasons = try m.reasons()
        #expect(reasons.map(\.value) == ["SIP", "Q.850"])
        #expect(reasons.map { $0.parameter("cause") } == ["580", "16"])
        #expect(reasons[0].parameter("text") == "Precondition Failure")
        #expect(reasons[0].parameters.parameter("text") == .some("\"Precondition Failure\""))
    }

    @Test("P-Asserted-Identity: a SIP and a tel identity")
    func pAssertedIdentity() throws {
        let m = try bare(["P-Asserted-Identity: \"Cullen Jennings\" <sip:fluffy@cisco.com>, <tel:+14085264000>"])
        let ids = try m.pAssertedIdentities()
        #expect(ids.count == 2)
        #expect(ids[0].displayName == "Cullen Jennings")
        #expect(ids[1].uri == .tel(TelURI(number: "+14085264000")))
    }

    @Test("Privacy: values separated by ;")
    func privacy() throws {
        #expect(try bare(["Privacy: id;header ; user"]).privacy() == ["id", "header", "user"])
        #expect(try bare(["Privacy: none"]).privacy() == ["none"])
        #expect(try bare([]).privacy() == nil)
        #expect(viewError { try bare(["Privacy: id;"]).privacy() }?.header == "Privacy")
    }

    // MARK: Session timers, 100rel

    @Test("Session-Expires with refresher, Min-SE, and their bounds")
    func sessionTimers() throws {
        let m = try bare(["Session-Expires: 4000;refresher=uac", "Min-SE: 90"])
        let se = try #require(try m.sessionExpires())
        #expect(se.seconds == 4000)
        #expect(se.refresher == "uac")
        #expect(try m.minSE() == 90)
        #expect(try bare(["Session-Expires: 1800"]).sessionExpires()?.refresher == nil)
        #expect(viewError { try bare(["Session-Expires: 4294967296"]).sessionExpires() }?.header == "Session-Expires")
        #expect(viewError { try bare(["Session-Expires: soon"]).sessionExpires() }?.header == "Session-Expires")
        #expect(viewError { try bare(["Min-SE: 4294967296"]).minSE() }?.header == "Min-SE")
    }

    @Test("RSeq and RAck")
    func reliableProvisional() throws {
        let m = try bare(["RSeq: 988789", "RAck: 776656 1 INVITE"])
        #expect(try m.rseq() == 988789)
        let rack = try #require(try m.rack())
        #expect(rack.responseNumber == 776656)
        #expect(rack.cseq == CSeq(1, .invite))
        #expect(rack.description == "776656 1 INVITE")
        #expect(viewError { try bare(["RSeq: 0"]).rseq() }?.header == "RSeq")
        #expect(viewError { try bare(["RSeq: 2147483648"]).rseq() }?.header == "RSeq")
        #expect(try bare(["RSeq: 2147483647"]).rseq() == 2147483647)
        #expect(viewError { try bare(["RAck: 776656 INVITE"]).rack() }?.header == "RAck")
    }

    // MARK: Expires, Min-Expires

    @Test("Expires and Min-Expires: 32-bit delta-seconds, overflow is an error, never wrapped")
    func expires() throws {
        #expect(try bare(["Expires: 0"]).expires() == 0)
        #expect(try bare(["Expires: 4294967295"]).expires() == UInt32.max)
        #expect(try bare(["Min-Expires: 60"]).minExpires() == 60)
        #expect(try bare([]).expires() == nil)
        for bad in ["4294967296", "18446744073709551616", "99999999999999999999999999999", "-1", "1.5", "soon"] {
            #expect(viewError { try bare(["Expires: \(bad)"]).expires() }?.header == "Expires", "\(bad)")
            #expect(viewError { try bare(["Min-Expires: \(bad)"]).minExpires() }?.header == "Min-Expires", "\(bad)")
        }
    }

    // MARK: Raw header access

    @Test("values() does not split; listValues() splits at top-level commas only")
    func listSplitting() throws {
        let m = try bare(["Contact: \"a,b\" <sip:x@y.com;p=1>, <sip:z@y.com>", "Contact: <sip:w@y.com>"])
        #expect(m.headers.values(.contact) == ["\"a,b\" <sip:x@y.com;p=1>, <sip:z@y.com>", "<sip:w@y.com>"])
        #expect(m.headers.listValues(.contact) == ["\"a,b\" <sip:x@y.com;p=1>", "<sip:z@y.com>", "<sip:w@y.com>"])
        #expect(m.headers.indices(of: .contact) == [0, 1])
        #expect(m.headers.contains(.contact))
        #expect(!m.headers.contains(.route))
        #expect(m.headers[.route] == nil)
    }

    @Test("header values are trimmed; empty values are empty strings")
    func trimming() throws {
        let m = try bare(["Subject:    hello   ", "X-Empty:", "Organization :\tACME\t"])
        #expect(m.headers[.subject] == "hello")
        #expect(m.headers["X-Empty"] == "")
        #expect(m.headers[.organization] == "ACME")
    }
}
