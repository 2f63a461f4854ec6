import SIPCore
import Testing

/// Parses a SIP or SIPS URI (as inside `<…>`), failing the test when it is another kind.
private func sip(_ text: String) throws -> SIPURI {
    let uri = try URI.parse(text)
    guard case .sip(let u) = uri else { throw SIPParseError(SIPParseError.Code("test"), "not a SIP URI: \(uri)") }
    return u
}

@Suite("URI parsing")
struct URIParsingTests {
    @Test("sip: user, host, no port")
    func basic() throws {
        let u = try sip("sip:alice@atlanta.com")
        #expect(u.isSecure == false)
        #expect(u.scheme == "sip")
        #expect(u.user == "alice")
        #expect(u.password == nil)
        #expect(u.host == .name("atlanta.com"))
        #expect(u.port == nil)
        #expect(u.parameters.isEmpty)
        #expect(u.headers.isEmpty)
    }

    @Test("sips: is secure; the scheme is case-insensitive")
    func sips() throws {
        let u = try sip("sips:alice@atlanta.com")
        #expect(u.isSecure)
        #expect(u.scheme == "sips")
        #expect(try sip("SIP:alice@atlanta.com").isSecure == false)
        #expect(try sip("SiPs:alice@atlanta.com").isSecure)
    }

    @Test("password, port and parameters")
    func passwordPortParameters() throws {
        let u = try sip("sip:alice:secretword@atlanta.com:5061;transport=TCP;maddr=239.255.255.1;user=phone")
        #expect(u.user == "alice")
        #expect(u.password == "secretword")
        #expect(u.port == 5061)
        #expect(u.transport == "tcp")
        #expect(u.maddr == "239.255.255.1")
        #expect(u.userParameter == "phone")
        #expect(u.parameters.count == 3)
    }

    @Test("host only, IPv4 and IPv6 hosts")
    func hosts() throws {
        #expect(try sip("sip:atlanta.com").user == nil)
        #expect(try sip("sip:atlanta.com").host == .name("atlanta.com"))
        #expect(try sip("sip:alice@192.0.2.4").host == .ipv4("192.0.2.4"))
        #expect(try sip("sip:alice@192.0.2.4").host.isNumeric)
        let v6 = try sip("sip:alice@[2001:db8::1]:5060")
        #expect(v6.host == .ipv6("2001:db8::1"))
        #expect(v6.host.description == "[2001:db8::1]")
        #expect(v6.host.bare == "2001:db8::1")
        #expect(v6.port == 5060)
        #expect(try sip("sip:[::1]").host == .ipv6("::1"))
        #expect(try sip("sip:[::ffff:192.0.2.1]").host == .ipv6("::ffff:192.0.2.1"))
        #expect(try sip("sip:[1:2:3:4:5:6:7:8]").host == .ipv6("1:2:3:4:5:6:7:8"))
        #expect(try sip("sip:[::]").host == .ipv6("::"))
        #expect(try sip("sip:[1:2:3:4:5:6:7::]").host == .ipv6("1:2:3:4:5:6:7::"))
        #expect(try sip("sip:[::2:3:4:5:6:7:8]").host == .ipv6("::2:3:4:5:6:7:8"))
        #expect(try sip("sip:[2001:db8:::192.0.2.1]").host == .ipv6("2001:db8:::192.0.2.1"))
    }

    @Test("malformed IPv6 references are rejected", arguments: [
        "sip:[2001:db8::g]", "sip:[2001:db8::1", "sip:[]", "sip:[1:2:3:4:5:6:7:8:9]", "sip:[1::2::3]",
        "sip:[12345::1]", "sip:2001:db8::1", "sip:[1:2:3:4:5:6:7]", "sip:[::1.2.3]", "sip:[1:2:3:4:5:6:7:8:]",
        "sip:[:1:2:3:4:5:6:7:8]", "sip:[1::2:]", "sip:[:1::2]", "sip:[1::2:::3]", "sip:[::::1]",
    ])
    func badIPv6(text: String) {
        #expect(throws: SIPParseError.self) { try URI.parse(text) }
    }

    @Test("ports: 0 and 65535 are in range; 65536 and beyond, and empty ports, are not")
    func ports() throws {
        #expect(try sip("sip:a@b.com:0").port == 0)
        #expect(try sip("sip:a@b.com:65535").port == 65535)
        for text in ["sip:a@b.com:65536", "sip:a@b.com:99999999999999999999", "sip:a@b.com:", "sip:a@b.com:5x"] {
            let error = viewError { try URI.parse(text) }
            #expect(error?.code == .badURI, "\(text)")
        }
        #expect(viewError { try URI.parse("sip:a@b.com:65536") }?.message.contains("port") == true)
    }

    @Test("parameters without values; lr; empty values are rejected")
    func valuelessParameters() throws {
        let u = try sip("sip:proxy.example.com;lr;foo;bar=baz")
        #expect(u.isLooseRouter)
        #expect(u.parameters == [Parameter("lr"), Parameter("foo"), Parameter("bar", "baz")])
        #expect(u.parameters.parameter("LR") == .some(nil))
        #expect(u.parameters.parameter("missing") == nil)
        #expect(u.description == "sip:proxy.example.com;lr;foo;bar=baz")
        #expect(throws: SIPParseError.self) { try URI.parse("sip:proxy.example.com;transport=") }
        #expect(throws: SIPParseError.self) { try URI.parse("sip:proxy.example.com;;lr") }
        #expect(throws: SIPParseError.self) { try URI.parse("sip:proxy.example.com;") }
    }

    @Test("escapes: kept as written, decoded on request; malformed escapes are rejected")
    func escapes() throws {
        let u = try sip("sip:%61lice%20smith@atlanta.com")
        #expect(u.user == "%61lice%20smith")
        #expect(u.userUnescaped == Array("alice smith".utf8))
        #expect(u.description == "sip:%61lice%20smith@atlanta.com")
        #expect(try sip("sip:alice:pa%73s@atlanta.com").password == "pa%73s")
        for text in ["sip:%G1@atlanta.com", "sip:al%4@atlanta.com", "sip:al%@atlanta.com"] {
            #expect(throws: SIPParseError.self, "\(text)") { try URI.parse(text) }
        }
        #expect(Percent.decode(Array("100%".utf8)[...]) == Array("100%".utf8))
        #expect(Percent.decode(Array("%41%42%4".utf8)[...]) == Array("AB%4".utf8))
    }

    @Test("headers: ?name=value&… in order")
    func headers() throws {
        let u = try sip("sip:alice@atlanta.com?subject=project%20x&priority=urgent")
        #expect(u.headers == [Parameter("subject", "project%20x"), Parameter("priority", "urgent")])
        #expect(u.description == "sip:alice@atlanta.com?subject=project%20x&priority=urgent")
        let v = try sip("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com")
        #expect(v.parameters.parameter("method") == .some("REGISTER"))
        #expect(v.headers == [Parameter("to", "sip:bob%40biloxi.com")])
        #expect(throws: SIPParseError.self) { try URI.parse("sip:alice@atlanta.com?subject") }
        #expect(throws: SIPParseError.self) { try URI.parse("sip:alice@atlanta.com?=x") }
    }

    @Test("the user part allows the user-unreserved characters")
    func userCharacters() throws {
        let u = try sip("sip:+1-212-555-1212;npdi;rn=+1-212-555-1111@gateway.com;user=phone")
        #expect(u.user == "+1-212-555-1212;npdi;rn=+1-212-555-1111")
        #expect(u.userParameter == "phone")
        #expect(throws: SIPParseError.self) { try URI.parse("sip:al ice@atlanta.com") }
        #expect(throws: SIPParseError.self) { try URI.parse("sip:al\"ice@atlanta.com") }
        #expect(throws: SIPParseError.self) { try URI.parse("sip:@atlanta.com") }
    }

    @Test("hostnames: empty labels and bad characters are rejected")
    func badHosts() {
        for text in ["sip:alice@", "sip:alice@atlanta..com", "sip:alice@.atlanta.com", "sip:alice@atl_anta com",
                     "sip:alice@atlanta.com extra", "sip:alice@atl!anta.com"] {
            #expect(throws: SIPParseError.self, "\(text)") { try URI.parse(text) }
        }
    }

    @Test("tel: URIs, global and local, with parameters")
    func tel() throws {
        let global = try URI.parse("tel:+1-201-555-0123")
        guard case .tel(let t) = global else {
            Issue.record("not a tel URI: \(global)")
            return
        }
        #expect(t.isGlobal)
        #expect(t.number == "+1-201-555-0123")
        #expect(global.scheme == "tel")
        #expect(global.description == "tel:+1-201-555-0123")
        let local = try URI.parse("tel:7042;phone-context=example.com")
        guard case .tel(let l) = local else {
            Issue.record("not a tel URI: \(local)")
            return
        }
        #expect(!l.isGlobal)
        #expect(l.parameters == [Parameter("phone-context", "example.com")])
        #expect(local.description == "tel:7042;phone-context=example.com")
        #expect(throws: SIPParseError.self) { try URI.parse("tel:") }
        #expect(throws: SIPParseError.self) { try URI.parse("tel:+1 201") }
    }

    @Test("other schemes are kept opaque")
    func otherSchemes() throws {
        #expect(try URI.parse("mailto:alice@example.com") == .other(scheme: "mailto", rest: "alice@example.com"))
        let http = try URI.parse("HTTP://www.example.com/a?b=c")
        #expect(http.scheme == "http")
        #expect(http.description == "HTTP://www.example.com/a?b=c")
        #expect(http.sipURI == nil)
        #expect(throws: SIPParseError.self) { try URI.parse("urn:") }
        #expect(throws: SIPParseError.self) { try URI.parse("urn:a b") }
        #expect(throws: SIPParseError.self) { try URI.parse("urn:a<b") }
    }

    @Test("not URIs: no scheme, scheme not starting with a letter, empty", arguments: [
        "", "alice@atlanta.com", "1sip:alice@atlanta.com", ":alice", "sip", "<sip:alice@atlanta.com>",
    ])
    func notURIs(text: String) {
        let error = viewError { try URI.parse(text) }
        #expect(error?.code == .badURI)
    }

    @Test("a URI serializes to the text it was parsed from", arguments: [
        "sip:alice@atlanta.com", "sips:alice:pw@atlanta.com:5061", "sip:[2001:db8::1]:5070;transport=udp",
        "sip:+1212555@gw.example.com;user=phone", "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
        "sip:p1.example.com;lr", "tel:+1-201-555-0123;ext=12", "urn:service:sos", "sip:192.0.2.1:5060",
    ])
    func roundTrip(text: String) throws {
        #expect(try URI.parse(text).description == text)
    }

    @Test("addressOfRecord drops parameters and headers and decodes the user")
    func addressOfRecord() throws {
        let u = try sip("sip:%61lice@AtLanta.com:5060;transport=tcp?subject=x")
        #expect(u.addressOfRecord == "sip:alice@atlanta.com:5060")
    }

    @Test("too many URI parameters is an error")
    func tooManyParameters() {
        let text = "sip:a@b.com" + String(repeating: ";p", count: 65)
        #expect(viewError { try URI.parse(text) }?.message.contains("too many") == true)
        var limits = SIPLimits()
        limits.maxParameters = 100
        #expect(viewError { try URI.parse(text, limits: limits) } == nil)
    }

    @Test("Host.parse")
    func hostParse() {
        #expect(Host.parse("example.com") == .name("example.com"))
        #expect(Host.parse("example.com.") == .name("example.com."))
        #expect(Host.parse("192.0.2.1") == .ipv4("192.0.2.1"))
        #expect(Host.parse("[2001:db8::1]") == .ipv6("2001:db8::1"))
        #expect(Host.parse("2001:db8::1") == nil)
        #expect(Host.parse("") == nil)
        #expect(Host.parse("a..b") == nil)
        #expect(Host.parse("[2001:db8::1") == nil)
    }
}

/// RFC 3261 §19.1.4: URI comparison, with the RFC's own examples.
@Suite("URI equivalence (RFC 3261 §19.1.4)")
struct URIEquivalenceTests {
    @Test("the RFC's equivalent pairs", arguments: [
        ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
        ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
        ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"),
        ("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"),
        ("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
         "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"),
        ("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
         "sip:alice@atlanta.com?priority=urgent&subject=project%20x"),
    ])
    func equivalent(a: String, b: String) throws {
        let x = try sip(a), y = try sip(b)
        #expect(x.isEquivalent(to: y))
        #expect(y.isEquivalent(to: x))
        #expect(x.isEquivalent(to: x))
    }

    @Test("the RFC's non-equivalent pairs", arguments: [
        // different usernames
        ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
        // can resolve to different ports
        ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
        // can resolve to different transports
        ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),
        // different port and transport
        ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),
        // different header component
        ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),
        // even though that's what phone21.boxesbybob.com resolves to
        ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),
    ])
    func notEquivalent(a: String, b: String) throws {
        let x = try sip(a), y = try sip(b)
        #expect(!x.isEquivalent(to: y))
        #expect(!y.isEquivalent(to: x))
    }

    @Test("further rules: sip vs sips, password, user/ttl/method/maddr parameters, differing parameter values")
    func furtherRules() throws {
        #expect(!(try sip("sip:alice@atlanta.com").isEquivalent(to: try sip("sips:alice@atlanta.com"))))
        #expect(!(try sip("sip:alice:a@atlanta.com").isEquivalent(to: try sip("sip:alice:b@atlanta.com"))))
        #expect(try sip("sip:alice:%61@atlanta.com").isEquivalent(to: try sip("sip:alice:a@atlanta.com")))
        #expect(!(try sip("sip:alice@atlanta.com;user=phone").isEquivalent(to: try sip("sip:alice@atlanta.com"))))
        #expect(!(try sip("sip:alice@atlanta.com;ttl=1").isEquivalent(to: try sip("sip:alice@atlanta.com"))))
        #expect(!(try sip("sip:alice@atlanta.com;method=INVITE").isEquivalent(to: try sip("sip:alice@atlanta.com"))))
        #expect(!(try sip("sip:alice@atlanta.com;maddr=1.2.3.4").isEquivalent(to: try sip("sip:alice@atlanta.com"))))
        #expect(!(try sip("sip:alice@atlanta.com;foo=1").isEquivalent(to: try sip("sip:alice@atlanta.com;foo=2"))))
        #expect(try sip("sip:alice@atlanta.com;lr").isEquivalent(to: try sip("sip:alice@atlanta.com")))
        // User parts are case-sensitive, hosts are not.
        #expect(!(try sip("sip:Alice@atlanta.com").isEquivalent(to: try sip("sip:alice@atlanta.com"))))
        #expect(try sip("sip:alice@[2001:DB8::1]").isEquivalent(to: try sip("sip:alice@[2001:db8::1]")))
        // Headers: every header must be in both.
        #expect(!(try sip("sip:a@b.com?x=1").isEquivalent(to: try sip("sip:a@b.com?x=2"))))
        #expect(!(try sip("sip:a@b.com?x=1&y=2").isEquivalent(to: try sip("sip:a@b.com?x=1"))))
    }
}
