import Testing
import SIPCore
import SIPServer

@Suite struct AddressOfRecordTests {
    func aor(_ text: String) throws -> AddressOfRecord? { AddressOfRecord(try URI.parse(text)) }

    @Test func parametersDroppedEscapesDecodedHostLowerCased() throws {
        #expect(try aor("sip:Alice@VOICE.Lan;user=phone;transport=udp")?.text == "sip:Alice@voice.lan")
        #expect(try aor("sip:%61lice@voice.lan")?.text == "sip:alice@voice.lan")
        #expect(try aor("sips:alice@voice.lan")?.text == "sips:alice@voice.lan")
        #expect(try aor("sip:alice@voice.lan.")?.text == "sip:alice@voice.lan")
        #expect(try aor("sip:alice@[2001:DB8::1]")?.text == "sip:alice@[2001:db8::1]")
        #expect(try aor("tel:+15551234") == nil)
    }

    @Test func userStaysCaseSensitiveAndPortIsKept() throws {
        // §19.1.4: users compare case-sensitively; a port written is not the same as none.
        #expect(try aor("sip:alice@voice.lan") != aor("sip:ALICE@voice.lan"))
        #expect(try aor("sip:alice@voice.lan") != aor("sip:alice@voice.lan:5060"))
        #expect(try aor("sip:alice@voice.lan:5070")?.text == "sip:alice@voice.lan:5070")
        #expect(try aor("sip:alice@VOICE.LAN;lr") == aor("sip:alice@voice.lan"))
    }

    @Test func servedDomainsIgnoreCaseBracketsAndPort() throws {
        let domains = ServedDomains(["Voice.LAN", "[::1]", "192.168.1.1"])
        #expect(domains.contains(try URI.parse("sip:voice.lan:5070")))
        #expect(domains.contains(try URI.parse("sip:101@VOICE.lan.")))
        #expect(domains.contains(try URI.parse("sip:[::1]")))
        #expect(domains.contains(try URI.parse("sips:192.168.1.1")))
        #expect(!domains.contains(try URI.parse("sip:example.com")))
        #expect(!domains.contains(try URI.parse("tel:+15551234")))
    }
}
