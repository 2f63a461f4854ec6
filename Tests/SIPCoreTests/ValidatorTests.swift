import SIPCore
import Testing

/// Checks a request built with `request(…)` for a role.
private func verdict(_ bytes: [UInt8], _ role: SIPElementRole, _ policy: SIPValidationPolicy? = nil) -> SIPVerdict {
    SIPValidator.inspect(datagram: bytes, policy: policy ?? SIPValidationPolicy(role: role)).verdict
}

@Suite("SIPValidator")
struct ValidatorTests {
    @Test("a well-formed request is accepted by every role that handles its method")
    func accepts() {
        #expect(verdict(request("OPTIONS"), .uas) == .accept)
        #expect(verdict(request("OPTIONS"), .proxy) == .accept)
        #expect(verdict(request("OPTIONS"), .registrar) == .accept)
        #expect(verdict(request("REGISTER", extra: ["Contact: <sip:bob@192.0.2.4>", "Expires: 3600"]), .registrar) == .accept)
    }

    @Test("each missing mandatory header is named", arguments: ["Via", "To", "From", "Call-ID", "CSeq"])
    func missing(name: String) throws {
        var m = try SIPMessage.parse(datagram: request())
        m.headers.removeAll(HeaderName(name))
        let r = try #require(rejection(SIPValidator.validate(m, policy: SIPValidationPolicy(role: .uas))))
        #expect(r.status == 400)
        #expect(r.reason == "Bad Request (Missing \(name) header)")
    }

    @Test("CSeq of 2^31 or more in a request is a 400")
    func cseqRange() throws {
        var m = try SIPMessage.parse(datagram: request())
        m.headers.set(.cseq, "2147483648 OPTIONS")
        #expect(rejection(SIPValidator.validate(m, policy: SIPValidationPolicy(role: .proxy)))?.reason.contains("CSeq") == true)
        m.headers.set(.cseq, "2147483647 OPTIONS")
        #expect(SIPValidator.validate(m, policy: SIPValidationPolicy(role: .proxy)) == .accept)
    }

    @Test("a known method a UAS does not allow is 405 with Allow; an unknown one is 501")
    func methods() throws {
        let r = try #require(rejection(verdict(request("SUBSCRIBE"), .uas)))
        #expect(r.status == 405)
        #expect(r.headers.first { $0.name == .allow }?.value == "INVITE, ACK, BYE, CANCEL, OPTIONS, PRACK, UPDATE, INFO, REFER, NOTIFY")
        #expect(outcome(verdict(request("FOO"), .uas)) == "501")
        #expect(verdict(request("FOO"), .proxy) == .accept)
        let custom = SIPValidationPolicy(role: .uas, allowedMethods: [.options, .message])
        #expect(verdict(request("MESSAGE"), .uas, custom) == .accept)
        #expect(outcome(verdict(request("INVITE"), .uas, custom)) == "405")
    }

    @Test("Require: supported tags pass, others are 420 with Unsupported; ACK and CANCEL are never refused for it")
    func require() throws {
        #expect(verdict(request("INVITE", extra: ["Require: 100rel, timer"]), .uas) == .accept)
        let r = try #require(rejection(verdict(request("INVITE", extra: ["Require: 100rel, foo, bar"]), .uas)))
        #expect(r.status == 420)
        #expect(r.headers == [HeaderField(name: .unsupported, value: "foo, bar")])
        #expect(verdict(request("ACK", extra: ["Require: foo"]), .uas) == .accept)
        #expect(verdict(request("CANCEL", extra: ["Require: foo"]), .uas) == .accept)
        // A proxy ignores Require.
        #expect(verdict(request("INVITE", extra: ["Require: foo"]), .proxy) == .accept)
        let extended = SIPValidationPolicy(role: .uas, supportedExtensions: ["foo", "bar"])
        #expect(verdict(request("INVITE", extra: ["Require: foo, bar"]), .uas, extended) == .accept)
    }

    @Test("Proxy-Require at a proxy: supported passes, others are 420")
    func proxyRequire() {
        #expect(verdict(request("INVITE", extra: ["Proxy-Require: path"]), .proxy) == .accept)
        #expect(outcome(verdict(request("INVITE", extra: ["Proxy-Require: sec-agree"]), .proxy)) == "420")
        #expect(verdict(request("INVITE", extra: ["Proxy-Require: sec-agree"]), .uas) == .accept)
    }

    @Test("Max-Forwards 0: 483 at a proxy, except for ACK; malformed Max-Forwards is a 400")
    func maxForwards() throws {
        var m = try SIPMessage.parse(datagram: request("INVITE"))
        m.headers.set(.maxForwards, "0")
        #expect(outcome(SIPValidator.validate(m, policy: SIPValidationPolicy(role: .proxy))) == "483")
        #expect(SIPValidator.validate(m, policy: SIPValidationPolicy(role: .uas)) == .accept)
        var ack = try SIPMessage.parse(datagram: request("ACK"))
        ack.headers.set(.maxForwards, "0")
        #expect(SIPValidator.validate(ack, policy: SIPValidationPolicy(role: .proxy)) == .accept)
        m.headers.set(.maxForwards, "abc")
        #expect(outcome(SIPValidator.validate(m, policy: SIPValidationPolicy(role: .proxy))) == "400")
    }

    @Test("bodies: unknown type 415 with Accept; Content-Encoding 415 with Accept-Encoding; SDP accepted")
    func bodies() throws {
        #expect(verdict(request("INVITE", extra: ["Content-Type: application/sdp"], body: "v=0\r\n"), .uas) == .accept)
        let r = try #require(rejection(verdict(request("INVITE", extra: ["Content-Type: text/html"], body: "<p>"), .uas)))
        #expect(r.status == 415)
        #expect(r.headers == [HeaderField(name: .accept, value: "application/sdp")])
        let gz = try #require(rejection(verdict(request("INVITE", extra: ["Content-Type: application/sdp", "Content-Encoding: gzip"], body: "xx"), .uas)))
        #expect(gz.status == 415)
        #expect(gz.headers.first?.name == .acceptEncoding)
        // No body: the type does not matter.
        #expect(verdict(request("INVITE", extra: ["Content-Type: text/html"]), .uas) == .accept)
    }

    @Test("Request-URI: tel accepted, unknown scheme 416, headers 400")
    func requestURI() {
        #expect(verdict(request("INVITE", uri: "tel:+14085551234"), .uas) == .accept)
        #expect(outcome(verdict(request("INVITE", uri: "mailto:bob@example.com"), .proxy)) == "416")
        #expect(outcome(verdict(request("INVITE", uri: "sip:bob@example.com?Subject=x"), .proxy)) == "400")
    }

    @Test("registrar: Contact * needs Expires 0; the To must be a SIP AOR")
    func registrar() throws {
        // Outside REGISTER, * is not a Contact.
        let invite = try #require(rejection(verdict(request("INVITE", extra: ["Contact: *"]), .uas)))
        #expect(invite.status == 400)
        #expect(invite.reason.contains("Contact"))
        #expect(outcome(verdict(request("OPTIONS", extra: ["Contact: *"]), .uas)) == "400")
        #expect(verdict(request("OPTIONS", extra: ["Contact: *"]), .proxy) == .accept)
        #expect(verdict(request("REGISTER", extra: ["Contact: *", "Expires: 0"]), .registrar) == .accept)
        #expect(outcome(verdict(request("REGISTER", extra: ["Contact: *", "Expires: 60"]), .registrar)) == "400")
        #expect(outcome(verdict(request("REGISTER", extra: ["Contact: *"]), .registrar)) == "400")
        let bytes = crlf("""
            REGISTER sip:example.com SIP/2.0
            Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds
            To: <tel:+1555>
            From: <tel:+1555>;tag=1
            Call-ID: reg1
            CSeq: 1 REGISTER
            Content-Length: 0


            """)
        #expect(outcome(verdict(bytes, .registrar)) == "400")
        #expect(verdict(bytes, .proxy) == .accept)
    }

    @Test("responses: well-formed accepted, without Via dropped, next Via multicast dropped at a proxy")
    func responses() {
        let ok = crlf("""
            SIP/2.0 200 OK
            Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1
            Via: SIP/2.0/UDP 224.0.1.75;branch=z9hG4bK2
            From: <sip:a@example.com>;tag=1
            To: <sip:b@example.com>;tag=2
            Call-ID: x
            CSeq: 1 OPTIONS
            Content-Length: 0


            """)
        #expect(verdict(ok, .uas) == .accept)
        #expect(outcome(verdict(ok, .proxy)) == "drop")
        let noVia = crlf("SIP/2.0 200 OK\nFrom: <sip:a@example.com>;tag=1\nTo: <sip:b@example.com>\nCall-ID: x\nCSeq: 1 OPTIONS\n\n")
        #expect(outcome(verdict(noVia, .uas)) == "drop")
        let badCSeq = crlf("SIP/2.0 200 OK\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\nFrom: <sip:a@example.com>;tag=1\nTo: <sip:b@example.com>\nCall-ID: x\nCSeq: one OPTIONS\n\n")
        guard case .drop(let reason) = verdict(badCSeq, .uas) else {
            Issue.record("bad CSeq not dropped")
            return
        }
        #expect(reason.contains("CSeq"))
    }

    @Test("Accept without SDP on an INVITE is 406 at a UAS; Accept with SDP is fine")
    func acceptHeader() {
        #expect(outcome(verdict(request("INVITE", extra: ["Accept: text/plain"]), .uas)) == "406")
        #expect(verdict(request("INVITE", extra: ["Accept: text/plain, application/*"]), .uas) == .accept)
        #expect(verdict(request("OPTIONS", extra: ["Accept: text/plain"]), .uas) == .accept)
    }

    @Test("a bare CRLF keepalive or junk datagram is dropped silently")
    func keepaliveDatagram() {
        #expect(outcome(verdict(Array("\r\n\r\n".utf8), .proxy)) == "drop")
        #expect(outcome(verdict(Array("\u{0}\u{1}\u{2}".utf8), .uas)) == "drop")
        #expect(outcome(verdict([], .uas)) == "drop")
    }

    @Test("verdict(for:) on parse failures: 505 for a version, 513 for size, 400 otherwise, drop for responses")
    func failures() {
        #expect(SIPValidator.verdict(for: SIPParseFailure(error: SIPParseError(.badVersion, "v"), kind: .request(.invite)))
            == .reject(SIPRejection(status: 505, reason: "Version Not Supported")))
        #expect(outcome(SIPValidator.verdict(for: SIPParseFailure(error: SIPParseError(.messageTooLarge, "big"), kind: .request(.invite)))) == "513")
        let bad = SIPValidator.verdict(for: SIPParseFailure(error: SIPParseError(.badHeaderValue, "oops", header: "Via"), kind: .request(.invite)))
        #expect(rejection(bad)?.reason == "Bad Request (Via: oops)")
        #expect(outcome(SIPValidator.verdict(for: SIPParseFailure(error: SIPParseError(.badVersion, "v"), kind: .response))) == "drop")
    }

    @Test("reason phrases never carry control characters and stay short")
    func phrases() throws {
        let m = try SIPMessage.parse(datagram: request(extra: ["Require: " + String(repeating: "x", count: 300) + " y"]))
        let r = try #require(rejection(SIPValidator.validate(m, policy: SIPValidationPolicy(role: .uas))))
        #expect(r.status == 400)
        #expect(r.reason.count <= 150)
        #expect(!r.reason.unicodeScalars.contains { $0.value < 0x20 })
    }
}
